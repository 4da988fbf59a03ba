'use strict';
/* ChatPort browser checks, run by t/060-browser.t against the nginx it
 * started. Debian's chromium driven by playwright-core; no browser is ever
 * downloaded. Each check prints one line
 *     @@ {"name": "...", "ok": true|false, "info": "..."}
 * which the .t file turns into a TAP test; everything else is a log that
 * the .t file shows when a check fails.
 *
 * The widget lives in a *closed* shadow root and offers no test hook, so
 * the page's own scripts cannot see into it. This script looks in through
 * the DevTools protocol instead (DOM.describeNode with pierce, then
 * Runtime.callFunctionOn on the shadow root): that only reads the widget's
 * state and positions; every action is real mouse and keyboard input at
 * those positions, as a visitor would do it.
 *
 * Environment: CP_FRONT, CP_OFF, CP_EMPTY (origins of the online and the
 * closed-hours front servers, and of a site with an empty inbox), CP_USER, CP_PASS (the operator), CP_RUN (unique per run),
 * CP_SHOTS (screenshot folder), CP_CHROMIUM (the browser binary). */

const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');
const pageChecks = require('./page');
const images = require('./images');

const FRONT = process.env.CP_FRONT;
const OFF = process.env.CP_OFF;
const EMPTY = process.env.CP_EMPTY;
const USER = process.env.CP_USER || 'op';
const PASS = process.env.CP_PASS || 'pw';
const RUN = process.env.CP_RUN || String(Date.now());
const SHOTS = process.env.CP_SHOTS;
const CHROMIUM = process.env.CP_CHROMIUM || '/usr/bin/chromium';
const AUTH = 'Basic ' + Buffer.from(USER + ':' + PASS).toString('base64');
const XSS = '<img src=x onerror=window.__xss=1>';

const started = Date.now();
function log(...a) {
    console.log('[' + ((Date.now() - started) / 1000).toFixed(1) + 's]', ...a);
}
function report(name, ok, info) {
    console.log('@@ ' + JSON.stringify({ name, ok: !!ok, info: info || '' }));
}
async function check(name, fn) {
    try {
        const info = await fn();
        report(name, true, info);
        return true;
    } catch (e) {
        log('FAILED', name + ':', e && e.stack || e);
        report(name, false, String(e && e.message || e));
        return false;
    }
}
function assert(cond, what) {
    if (!cond) { throw new Error(what); }
}
const sleep = ms => new Promise(r => setTimeout(r, ms));

/* polls fn until it returns a truthy value, at most ms */
async function until(fn, ms, what) {
    const end = Date.now() + ms;
    let last;
    for (;;) {
        try {
            last = await fn();
            if (last) { return last; }
        } catch (e) {
            last = 'error: ' + (e && e.message || e);
        }
        if (Date.now() > end) {
            throw new Error('timed out after ' + ms + ' ms waiting for ' +
                            what + '; last: ' + JSON.stringify(last));
        }
        await sleep(100);
    }
}

/* the operator API with Basic auth */
async function agent(method, p, body) {
    const o = { method, headers: { Authorization: AUTH } };
    if (body) {
        o.headers['Content-Type'] = 'application/json';
        o.body = JSON.stringify(body);
    }
    const r = await fetch(FRONT + '/chatport/agent/' + p, o);
    const text = await r.text();
    let j = null;
    try { j = JSON.parse(text); } catch (e) { /* 204 */ }
    return { status: r.status, j, text };
}
/* an operator console's long-poll, held for the whole run: with the
 * status online, a held poll is what makes the operator available */
const held = new AbortController();
async function holdPoll(base, auth, signal) {
    let after = '';
    while (!signal.aborted) {
        try {
            /* from its cursor, as the console does: without one an inbox
             * with events answers at once, again and again */
            const r = await fetch(base + '/chatport/agent/poll' + after,
                                  { headers: { Authorization: auth },
                                    signal });
            const j = await r.json();
            if (j.cursor) { after = '?after=' + j.cursor; }
        } catch (e) {
            if (!signal.aborted) { await sleep(500); }
        }
    }
}
/* the conversation opened on a page (the visitor may have moved on) */
async function conversation(page) {
    const r = await agent('GET', 'conversations?limit=100');
    assert(r.status === 200, 'GET conversations: ' + r.status + ' ' + r.text);
    return r.j.conversations.find(c => c.first_page === page);
}

/* Loses the answer to the first POST to url: the server gets it (and
 * stores it), the page gets a 503 instead. Returns the keys of every POST
 * seen, and off() to stop. */
async function loseFirstAnswer(page, url) {
    const keys = [], busy = new Set();
    const handle = async route => {
        const req = route.request();
        if (req.method() !== 'POST') {
            return route.continue();
        }
        keys.push(JSON.parse(req.postData() || '{}').key);
        const resp = await route.fetch();
        if (keys.length > 1) {
            return route.fulfill({ response: resp });
        }
        log('answer', resp.status(), 'to', url, 'lost, 503 instead');
        return route.fulfill({ status: 503, contentType: 'application/json',
                               headers: { 'Retry-After': '1' },
                               body: '{"error":"unavailable","message":"x"}' });
    };
    /* off() lets a request in hand finish first: unrouting under it would
     * answer it behind the handler's back */
    const handler = route => {
        const p = handle(route);
        busy.add(p);
        return p.finally(() => busy.delete(p));
    };
    await page.route(url, handler);
    return { keys, off: async () => {
        await Promise.allSettled([...busy]);
        await page.unroute(url, handler);
    } };
}

/* the stored copies of a text in a conversation */
async function copies(cid, text) {
    const r = await agent('GET', 'conversations/' + encodeURIComponent(cid) +
                          '/messages');
    assert(r.status === 200, 'GET messages: ' + r.status + ' ' + r.text);
    return r.j.messages.filter(m => m.text === text).length;
}

/* the same random key on a post and its retry */
function sameKey(keys) {
    assert(keys.length === 2 && /^[0-9a-f]{32}$/.test(keys[0]) &&
           keys[1] === keys[0], 'keys of the post and its retry: ' +
           JSON.stringify(keys));
}

/* ------------------------------------------------ the widget, from outside */

/* runs in the widget's shadow root (this): what a visitor sees */
function widgetState() {
    const box = e => {
        if (!e) { return null; }
        const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
        return { x: r.x, y: r.y, w: r.width, h: r.height,
                 shown: r.width > 0 && r.height > 0 &&
                        cs.visibility !== 'hidden' && cs.display !== 'none' };
    };
    const q = s => this.querySelector(s);
    const fields = {}, asks = {};
    this.querySelectorAll('.off form [name]').forEach(e => {
        if (e.name !== 'website') { fields[e.name] = box(e); }
    });
    this.querySelectorAll('.ask form [name]').forEach(e => {
        asks[e.name] = box(e);
    });
    const ta = q('.foot textarea');
    return {
        mode: this.mode,
        launcher: box(q('.launcher')),
        panel: box(q('.panel')),
        textarea: box(q('.foot textarea')),
        form: box(q('.off form')),
        submit: box(q('.off form .send')),
        fields,
        ask: box(q('.ask')),
        asks,
        askSubmit: box(q('.ask .send')),
        shut: box(q('.shut')),
        close: box(q('.close')),
        typed: ta && ta.value,
        typingFocus: !!ta && this.activeElement === ta,
        texts: Array.from(this.querySelectorAll('.log .text'),
                          e => e.textContent),
        status: Array.from(this.querySelectorAll('.body [role=status]'),
                           e => e.textContent).join(' '),
        errors: Array.from(this.querySelectorAll('.err'), e => e.textContent)
            .filter(Boolean),
        imgs: this.querySelectorAll('img').length,
        focus: this.activeElement ? this.activeElement.tagName : null
    };
}

/* runs in the page (this: the document or the widget's shadow root): each
 * message text matching sel, with its child nodes: a text node as its
 * string, an element as its tag, attributes, nested elements and where to
 * click it */
function messageParts(sel) {
    return Array.from(this.querySelectorAll(sel), e => ({
        text: e.textContent,
        parts: Array.from(e.childNodes, n => {
            if (n.nodeType === 3) { return n.data; }
            if (n.nodeType !== 1) { return { tag: n.nodeName }; }
            /* a link may wrap: the centre of its first line box */
            const r = n.getClientRects()[0] || n.getBoundingClientRect();
            return { tag: n.tagName, text: n.textContent,
                     inner: n.querySelectorAll('*').length,
                     attrs: n.getAttributeNames()
                         .filter(a => a !== 'class').sort().join(),
                     href: n.getAttribute('href'),
                     target: n.getAttribute('target'),
                     rel: n.getAttribute('rel'),
                     x: r.x + r.width / 2, y: r.y + r.height / 2 };
        })
    }));
}
/* the parts of a message as compared: text as strings, a link as {a: href}
 * when it is exactly a safe one (its own URL as text, new tab, noopener
 * noreferrer, nothing else in it), anything else as {bad: ...} */
function shape(parts) {
    const out = [];
    for (const p of parts) {
        const rel = ' ' + (p.rel || '') + ' ';
        const v = typeof p === 'string' ? p :
            p.tag === 'A' && p.text === p.href && p.target === '_blank' &&
            rel.includes(' noopener ') && rel.includes(' noreferrer ') &&
            !p.inner && p.attrs === 'href,rel,target' ? { a: p.href } :
            { bad: p };
        if (typeof v === 'string' &&
            typeof out[out.length - 1] === 'string') {
            out[out.length - 1] += v;
        } else {
            out.push(v);
        }
    }
    return JSON.stringify(out);
}
/* the parts of the message whose whole text is text, or null */
function partsOf(list, text) {
    const m = list.find(x => x.text === text);
    return m ? m.parts : null;
}
async function consoleParts(page) {
    return page.evaluate('(' + messageParts + ').call(document, ' +
                         '"#msgs .mt")');
}

class Widget {
    constructor(page) {
        this.page = page;
    }
    async cdp() {
        if (!this.session) {
            this.session = await this.page.context().newCDPSession(this.page);
        }
        return this.session;
    }
    async state() {
        return this.inShadow(widgetState);
    }
    async parts() {
        return this.inShadow(messageParts, '.log .text');
    }
    /* fn(arg) in the widget's shadow root (this), its value */
    async inShadow(fn, arg) {
        const s = await this.cdp();
        const { result } = await s.send('Runtime.evaluate', {
            expression: 'document.querySelector("chatport-widget")' });
        if (!result.objectId) { return null; }
        const { node } = await s.send('DOM.describeNode',
            { objectId: result.objectId, pierce: true, depth: 0 });
        if (!node.shadowRoots || !node.shadowRoots.length) {
            return { noShadow: true };
        }
        const { object } = await s.send('DOM.resolveNode',
            { backendNodeId: node.shadowRoots[0].backendNodeId });
        const r = await s.send('Runtime.callFunctionOn', {
            objectId: object.objectId, returnByValue: true,
            arguments: [{ value: arg }],
            functionDeclaration: fn.toString() });
        if (r.exceptionDetails) {
            throw new Error(JSON.stringify(r.exceptionDetails));
        }
        return r.result.value;
    }
    async click(box) {
        await this.page.mouse.click(box.x + box.w / 2, box.y + box.h / 2);
    }
    async launcher() {
        return (await until(async () => {
            const st = await this.state();
            return st && st.launcher && st.launcher.shown && st;
        }, 8000, 'the widget launcher')).launcher;
    }
    async open() {
        let st = await this.state();
        if (!(st && st.panel && st.panel.shown)) {
            await this.click(await this.launcher());
        }
        return until(async () => {
            const s = await this.state();
            return s.panel.shown && s;
        }, 5000, 'the widget panel');
    }
    async say(text) {
        const st = await this.open();
        assert(st.textarea && st.textarea.shown,
               'no message box in the panel: ' + JSON.stringify(st));
        await this.click(st.textarea);
        await this.page.keyboard.type(text);
        await this.page.keyboard.press('Enter');
        await this.sees(text, 5000);
    }
    async sees(text, ms, times) {
        return until(async () => {
            const st = await this.state();
            return st && st.texts.filter(x => x === text).length >=
                (times || 1) && st;
        }, ms, 'the widget to show ' + JSON.stringify(text));
    }
}

/* ---------------------------------------------------------------- pages */

const watched = [];
function watch(page, label) {
    const w = { label, console: [], errors: [] };
    page.on('console', m => {
        if (m.type() === 'error' || m.type() === 'warning') {
            w.console.push(m.type() + ': ' + m.text());
        }
    });
    page.on('pageerror', e => w.errors.push(String(e && e.message || e)));
    watched.push(w);
    return w;
}
async function visitor(browser, label, opts) {
    const ctx = await browser.newContext(Object.assign(
        { viewport: { width: 1280, height: 800 } }, opts || {}));
    await ctx.addInitScript(() => {
        window.__cspv = [];
        document.addEventListener('securitypolicyviolation', e => {
            window.__cspv.push(e.violatedDirective + ' ' + e.blockedURI +
                               ' ' + e.sourceFile + ':' + e.lineNumber);
        }, true);
    });
    const page = await ctx.newPage();
    return { ctx, page, w: new Widget(page), watch: watch(page, label) };
}
async function shot(page, name) {
    if (!SHOTS) { return; }
    const file = path.join(SHOTS, name);
    await page.screenshot({ path: file });
    log('screenshot', file);
}

async function main() {
    /* launch() gives chromium a fresh temporary profile (--user-data-dir)
     * of its own and removes it on close */
    log('chromium', CHROMIUM);
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        timeout: 30000,
        args: ['--no-sandbox', '--headless', '--disable-gpu',
               '--disable-background-networking', '--disable-component-update',
               '--disable-sync', '--no-first-run']
    });
    log('browser', browser.version());
    try {
        await checks(browser);
    } finally {
        held.abort();
        await browser.close().catch(() => {});
    }
}

/* an operator's presence, and the config that says so */
async function presence(status) {
    const r = await agent('POST', 'presence', { status });
    assert(r.status === 204, 'presence: ' + r.status + ' ' + r.text);
    /* every worker learns it through Redis pub/sub, a moment later */
    await until(async () => (await (await fetch(FRONT +
        '/chatport/config')).json()).online === (status === 'online'),
        5000, 'config after ' + status);
}

async function checks(browser) {
    const shop = FRONT + '/shop.html?run=' + RUN;
    let cid;

    await check('an operator goes online (POST presence, a held poll)',
                async () => {
        const r = await agent('POST', 'presence', { status: 'online' });
        assert(r.status === 204, 'presence: ' + r.status + ' ' + r.text);
        holdPoll(FRONT, AUTH, held.signal);
        await until(async () =>
            (await (await fetch(FRONT + '/chatport/config')).json()).online
            === true, 5000, 'config online');
    });

    /* ---------------------------------------------------------- issue 6 */
    const v = await visitor(browser, 'shop');

    await check('the launcher appears on the proxied page (tag injected)',
                async () => {
        const resp = await v.page.goto(shop);
        assert(resp.status() === 200, 'shop page: ' + resp.status());
        const tags = await v.page.locator('script[src="/chatport/widget.js"]')
            .count();
        assert(tags === 1, 'injected script tags: ' + tags);
        assert(await v.page.locator('h1').textContent() === 'Tea & Cups',
               'not the shop page');
        const l = await v.w.launcher();
        assert(l.w >= 40 && l.h >= 40, 'launcher too small: ' +
               JSON.stringify(l));
        const st = await v.w.state();
        return 'shadow root ' + st.mode + ', launcher ' +
            Math.round(l.w) + 'x' + Math.round(l.h) + ' at ' +
            Math.round(l.x) + ',' + Math.round(l.y);
    });

    const hello = 'Hello, do you ship to Osaka? ' + RUN;
    await check('a message sent in the widget is stored with the page URL',
                async () => {
        await v.w.say(hello);
        const c = await until(() => conversation(shop), 3000,
                              'the conversation in GET conversations');
        cid = c.id;
        assert(c.last && c.last.text === hello && c.last.from === 'visitor',
               'last message: ' + JSON.stringify(c.last));
        return 'conversation ' + c.id + ' page ' + c.page;
    });

    const reply = 'Yes, we ship everywhere in Japan. ' + RUN;
    await check('an agent reply sent through the API appears in the widget',
                async () => {
        assert(cid, 'no conversation');
        const t0 = Date.now();
        const r = await agent('POST', 'conversations/' +
                              encodeURIComponent(cid) + '/messages',
                              { text: reply });
        assert(r.status === 201, 'reply: ' + r.status + ' ' + r.text);
        await v.w.sees(reply, 8000);
        const shownAfter = Date.now() - t0;
        /* shown in an open panel of a visible page: seen, so not mailed */
        const c = await until(async () => {
            const x = await conversation(shop);
            return x && x.seen === r.j.id && x;
        }, 5000, 'the widget to mark the reply seen');
        return 'shown after ' + shownAfter + ' ms, seen ' + c.seen;
    });

    await check('reloading the page shows the history', async () => {
        await v.page.reload();
        await v.w.launcher();
        await v.w.open();
        const st = await v.w.sees(reply, 5000);
        const i = st.texts.indexOf(hello), j = st.texts.indexOf(reply);
        assert(i >= 0 && j > i, 'history: ' + JSON.stringify(st.texts));
        return st.texts.length + ' messages after reload';
    });

    const lost = 'Is the green tea in stock? ' + RUN;
    await check('a message whose answer is lost (503) is sent again with ' +
                'the same key: stored and shown once', async () => {
        const l = await loseFirstAnswer(v.page, '**/chatport/messages');
        try {
            await v.w.say(lost);
            await until(() => l.keys.length >= 2, 5000, 'the retry');
        } finally {
            await l.off();
        }
        sameKey(l.keys);
        await sleep(500);
        const st = await v.w.state();
        const shown = st.texts.filter(x => x === lost).length;
        assert(shown === 1, 'shown ' + shown + ' times');
        const n = await copies(cid, lost);
        assert(n === 1, 'stored ' + n + ' times');
    });

    await shot(v.page, 'widget-desktop-chat.png');

    /* ------------------------------------------------ one thread (#10) */
    await check('a direct visit records no referrer', async () => {
        assert(await v.page.evaluate(() => document.referrer) === '',
               'the shop page was not visited directly');
        const c = await conversation(shop);
        assert(c.referrer === '', 'referrer ' + JSON.stringify(c.referrer) +
               ' (the page itself?)');
    });

    const mail = 'osaka.' + RUN + '@example.jp';
    await check('the operator goes away mid-chat: the visitor keeps the ' +
                'thread, is asked for an email in it, and the operator ' +
                'sees the address', async () => {
        assert(cid, 'no conversation');
        await presence('away');
        /* the widget looks again when its poll times out (5 s here) */
        let st = await until(async () => {
            const s = await v.w.state();
            return s.ask && s.ask.shown && s;
        }, 9000, 'the widget to ask for an address');
        assert(st.texts.includes(hello) && st.texts.includes(reply),
               'the thread is gone: ' + JSON.stringify(st.texts));
        assert(st.textarea && st.textarea.shown, 'no message box');
        assert(!(st.form && st.form.shown), 'the contact form instead');
        await sleep(300);              /* scrolled to the question */
        st = await v.w.state();
        await shot(v.page, 'widget-ask-email.png');
        await v.w.click(st.asks.email);
        await v.page.keyboard.type(mail);
        await v.w.click(st.askSubmit);
        st = await until(async () => {
            const s = await v.w.state();
            return !(s.ask && s.ask.shown) && s.status && s;
        }, 5000, 'the address to be taken');
        const c = await until(async () => {
            const x = await conversation(shop);
            return x.email === mail && x;
        }, 3000, 'the address on the conversation');
        await shot(v.page, 'widget-ask-email-sent.png');
        return 'the widget says: ' + st.status + '; GET conversations: ' +
            c.email;
    });
    await presence('online').catch(() => {});

    await check('typing while the state flips keeps the text and the focus',
                async () => {
        const f = await visitor(browser, 'flip');
        await f.page.goto(shop + '&flip=1');
        let st = await f.w.open();
        await f.w.click(st.textarea);
        const typed = 'I would like to ask about';
        await f.page.keyboard.type(typed);
        await presence('away');
        /* the widget looks at the config again when the window gets the
         * focus back (a real focus change would move the caret) */
        await f.page.evaluate(() => window.dispatchEvent(new Event('focus')));
        st = await until(async () => {
            const s = await f.w.state();
            return s.form && s.form.shown && s;
        }, 5000, 'the offline state (the form) in the widget');
        assert(st.textarea.shown && st.typed === typed && st.typingFocus,
               'the message box lost the text or the focus: ' +
               JSON.stringify({ typed: st.typed, focus: st.typingFocus }));
        await shot(f.page, 'widget-flip-offline-typing.png');
        await f.page.keyboard.type(' teapots.');
        await f.page.keyboard.press('Enter');
        st = await until(async () => {
            const s = await f.w.state();
            return s.texts.includes(typed + ' teapots.') && s.ask.shown &&
                !s.form.shown && s;
        }, 5000, 'the message in a thread that asks for an address');
        await presence('online');
        await f.page.evaluate(() => window.dispatchEvent(new Event('focus')));
        await f.w.click(st.textarea);
        await f.page.keyboard.type('and cups');
        await presence('away');
        await f.page.evaluate(() => window.dispatchEvent(new Event('focus')));
        await sleep(500);
        st = await f.w.state();
        assert(st.typed === 'and cups' && st.typingFocus && st.textarea.shown,
               'with a conversation: ' + JSON.stringify(st.typed));
        await presence('online');
        await f.ctx.close();
    });

    /* offline: same site, chatport_hours closed on that server */
    const o = await visitor(browser, 'offline');
    const offPage = OFF + '/shop.html?offline=' + RUN;
    const formMsg = 'Please call me back about order 42. ' + RUN;
    let formShown = false;
    await check('offline (hours closed) the widget shows the contact form',
                async () => {
        const c = await (await fetch(OFF + '/chatport/config')).json();
        assert(c.online === false, 'offline server is online: ' +
               JSON.stringify(c));
        await o.page.goto(offPage);
        const st = await o.w.open();
        assert(st.form && st.form.shown, 'no form: ' + JSON.stringify(st));
        assert(!(st.textarea && st.textarea.shown),
               'chat box shown while offline');
        for (const f of ['name', 'email', 'message']) {
            assert(st.fields[f] && st.fields[f].shown, 'no field ' + f);
        }
        formShown = true;
        return 'fields: ' + Object.keys(st.fields).join(', ');
    });
    await shot(o.page, 'widget-desktop-form.png');

    await check('a contact-form submission is stored (GET forms)', async () => {
        assert(formShown, 'no form');
        const fill = { name: 'Hanako Yamada', email: 'hanako@example.com',
                       message: formMsg };
        let st = await o.w.state();
        for (const k of Object.keys(fill)) {
            await o.w.click(st.fields[k]);
            await o.page.keyboard.type(fill[k]);
        }
        st = await o.w.state();
        await o.w.click(st.submit);
        st = await until(async () => {
            const s = await o.w.state();
            return (s.status || s.errors.length) && s;
        }, 5000, 'an answer to the form');
        assert(st.status && !st.errors.length,
               'form answer: ' + JSON.stringify(st));
        const r = await agent('GET', 'forms');
        assert(r.status === 200, 'GET forms: ' + r.status + ' ' + r.text);
        const f = (r.j.forms || []).find(x => x.fields &&
                                         x.fields.message === formMsg);
        assert(f, 'submission not listed: ' + r.text.slice(0, 500));
        assert(f.page === offPage, 'page: ' + f.page);
        assert(f.fields.email === fill.email, 'email: ' + f.fields.email);
        return 'form ' + f.id + ', widget says: ' + st.status;
    });
    await shot(o.page, 'widget-desktop-form-sent.png');

    /* the page with a Content-Security-Policy */
    const c = await visitor(browser, 'csp');
    await check('a page with a strict CSP: widget works, no CSP violation',
                async () => {
        const resp = await c.page.goto(FRONT + '/csp.html?run=' + RUN);
        const csp = resp.headers()['content-security-policy'];
        assert(csp === "default-src 'self'", 'CSP header: ' + csp);
        await c.w.launcher();
        const text = 'Sent from the CSP page ' + RUN;
        await c.w.say(text);
        const conv = await until(() => conversation(c.page.url()), 3000,
                                 'the CSP conversation');
        assert(conv.last.text === text, 'stored: ' + JSON.stringify(conv));
        await sleep(300);
        const v1 = await c.page.evaluate(() => window.__cspv);
        const v2 = c.watch.console.filter(m =>
            /Content.Security.Policy|Refused to/i.test(m));
        assert(!v1.length && !v2.length && !c.watch.errors.length,
               'violations: ' + JSON.stringify(v1) + ' console: ' +
               JSON.stringify(v2) + ' errors: ' +
               JSON.stringify(c.watch.errors));
        return 'other console messages: ' + JSON.stringify(c.watch.console);
    });

    /* the page whose CSS hides every button */
    const h = await visitor(browser, 'hostile');
    await check('hostile page CSS: launcher and panel still work', async () => {
        await h.page.goto(FRONT + '/hostile.html?run=' + RUN);
        const own = await h.page.locator('#buy').boundingBox();
        assert(!own, 'the hostile CSS did not apply to the page: ' +
               JSON.stringify(own));
        const l = await h.w.launcher();
        assert(l.w >= 40 && l.w <= 80 && l.h >= 40 && l.h <= 80,
               'launcher ' + JSON.stringify(l));
        const st = await h.w.open();
        assert(st.panel.w >= 300 && st.panel.h >= 300,
               'panel ' + JSON.stringify(st.panel));
        const text = 'Sent from the hostile page ' + RUN;
        await h.w.say(text);
        const conv = await until(() => conversation(h.page.url()), 3000,
                                 'the hostile page conversation');
        assert(conv.last.text === text, 'stored: ' + JSON.stringify(conv));
        return 'panel ' + Math.round(st.panel.w) + 'x' +
            Math.round(st.panel.h);
    });
    await shot(h.page, 'widget-desktop-hostile.png');

    /* a phone */
    const m = await visitor(browser, 'phone',
                            { viewport: { width: 360, height: 640 } });
    await check('360x640: the panel is full-screen', async () => {
        await m.page.goto(shop + '&phone=1');
        const st = await m.w.open();
        const p = st.panel;
        assert(Math.abs(p.x) <= 1 && Math.abs(p.y) <= 1 &&
               Math.abs(p.w - 360) <= 1 && Math.abs(p.h - 640) <= 1,
               'panel box ' + JSON.stringify(p));
        return 'panel ' + JSON.stringify(p);
    });
    await shot(m.page, 'widget-mobile-360x640.png');

    /* ---------------------------------------------------------- issue 4 */
    const opCtx = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        httpCredentials: { username: USER, password: PASS } });
    const op = await opCtx.newPage();
    watch(op, 'console');
    const v4 = await visitor(browser, 'console-visitor');
    const page4 = FRONT + '/shop.html?console=' + RUN;
    /* where the visitor came from (document.referrer of page4) */
    const landing = FRONT + '/shop.html?landing=' + RUN;
    let item;

    await check('the operator console loads (Basic auth)', async () => {
        const r = await op.goto(FRONT + '/chatport/agent/');
        assert(r.status() === 200, 'console: ' + r.status());
        await until(async () =>
            await op.locator('#op').textContent() === USER, 5000,
            'the operator name in the console');
        /* the list is loaded and the inbox long-poll parked */
        await sleep(700);
    });

    await check('the operator console gets no widget injected', async () => {
        const tags = await op.locator('script[src*="widget.js"]').count();
        const hosts = await op.locator('chatport-widget').count();
        assert(!tags && !hosts, 'the console page has ' + tags +
               ' widget script tag(s) and ' + hosts +
               ' widget(s): its launcher covers the console');
    });

    const q4 = 'Is the blue teapot in stock? ' + RUN;
    await check('the console shows a new conversation with its page URL ' +
                'within about a second', async () => {
        await v4.page.goto(page4, { referer: landing });
        await v4.w.say(q4);
        const t0 = Date.now();
        item = op.locator('#convs li', {
            has: op.locator('.where a[href="' + page4 + '"]') });
        await until(async () => await item.count() === 1 &&
                    (await item.textContent()).includes(q4),
                    3000, 'the conversation in the console list');
        const dt = Date.now() - t0;
        assert(dt <= 1500, 'took ' + dt + ' ms');
        return 'shown ' + dt + ' ms after the widget showed the message';
    });

    await check('a conversation records the page the visitor came from ' +
                '(referrer)', async () => {
        const c = await conversation(page4);
        assert(c, 'no conversation for ' + page4);
        assert(await v4.page.evaluate(() => document.referrer) === landing,
               'the test did not set document.referrer');
        assert(c.referrer === landing, 'referrer ' + JSON.stringify(c.referrer) +
               ', expected ' + landing + ' (the page it came from)');
    });

    const a4 = 'Yes, 3 left. Shall I reserve one? ' + RUN;
    await check('an operator reply typed in the console appears in the widget',
                async () => {
        await item.locator('button.pickc').click({ timeout: 3000 });
        await until(async () => await op.locator('#conv').isVisible() &&
                    (await op.locator('#meta').textContent()).includes(page4),
                    3000, 'the open conversation with its page');
        await until(async () => (await op.locator('#msgs .mt')
                                 .allTextContents()).includes(q4),
                    3000, 'the visitor message in the console');
        await op.locator('#text').click({ timeout: 3000 });
        await op.keyboard.type(a4);
        await op.keyboard.press('Enter');
        const t0 = Date.now();
        await v4.w.sees(a4, 8000);
        return 'in the widget ' + (Date.now() - t0) + ' ms after Enter';
    });

    const a5 = 'It is reserved for you. ' + RUN;
    await check('an operator reply whose answer is lost (503) is sent ' +
                'again with the same key: stored and shown once', async () => {
        const l = await loseFirstAnswer(op, '**/conversations/*/messages');
        try {
            await op.locator('#text').click({ timeout: 3000 });
            await op.keyboard.type(a5);
            await op.keyboard.press('Enter');
            await until(() => l.keys.length >= 2, 5000, 'the retry');
            await until(async () => await op.locator('#text')
                        .inputValue() === '', 3000, 'the reply box emptied');
        } finally {
            await l.off();
        }
        sameKey(l.keys);
        await v4.w.sees(a5, 5000);
        await sleep(500);
        const shown = (await op.locator('#msgs .mt').allTextContents())
            .filter(x => x === a5).length;
        assert(shown === 1, 'shown in the console ' + shown + ' times');
        const st = await v4.w.state();
        assert(st.texts.filter(x => x === a5).length === 1,
               'shown in the widget more than once');
        const c = await conversation(page4);
        const n = await copies(c.id, a5);
        assert(n === 1, 'stored ' + n + ' times');
    });

    await check('HTML in a message renders as text on both sides', async () => {
        await v4.w.say(XSS);
        await until(async () => (await op.locator('#msgs .mt')
                                 .allTextContents()).includes(XSS),
                    3000, 'the visitor HTML message, as text, in the console');
        await op.locator('#text').click({ timeout: 3000 });
        await op.keyboard.type(XSS);
        await op.keyboard.press('Enter');
        const st = await v4.w.sees(XSS, 8000, 2);
        await until(async () => (await op.locator('#msgs .mt')
                                 .allTextContents()).filter(x => x === XSS)
                    .length === 2, 3000, 'the operator HTML message as text');
        await sleep(300);
        const xv = await v4.page.evaluate(() => typeof window.__xss);
        const xo = await op.evaluate(() => typeof window.__xss);
        const imgs = await op.locator('#msgs img').count();
        assert(xv === 'undefined' && xo === 'undefined',
               '__xss: visitor ' + xv + ', console ' + xo);
        assert(st.imgs === 0 && imgs === 0,
               'img elements: widget ' + st.imgs + ', console ' + imgs);
    });

    /* a link of a message shown on both sides; its click opens a tab
     * that has no opener and no referrer */
    const product = FRONT + '/shop.html?product=teapot-' + RUN;
    const cup = FRONT + '/shop.html?product=cup-' + RUN;
    const linkQ = 'This one? ' + product + '.';
    const linkA = 'Yes: ' + cup + ' (in stock)';
    async function opens(ctx, click, url) {
        const [p] = await Promise.all([
            ctx.waitForEvent('page', { timeout: 5000 }), click()]);
        try {
            await p.waitForLoadState('domcontentloaded', { timeout: 5000 });
            const got = await p.evaluate(() => [location.href,
                window.opener === null, document.referrer]);
            assert(got[0] === url && got[1] && got[2] === '',
                   'the new tab [url, no opener, referrer]: ' +
                   JSON.stringify(got));
        } finally {
            await p.close();
        }
    }
    await check('a product link is a link on both sides, opening a new ' +
                'tab with noopener and noreferrer', async () => {
        const want = JSON.stringify(['This one? ', { a: product }, '.']);
        await v4.w.say(linkQ);
        let got = await until(async () =>
            partsOf(await consoleParts(op), linkQ), 3000,
            'the visitor link in the console');
        assert(shape(got) === want, 'console: ' + shape(got));
        got = partsOf(await v4.w.parts(), linkQ);
        assert(got && shape(got) === want, 'widget: ' + JSON.stringify(got));

        await op.locator('#text').click({ timeout: 3000 });
        await op.keyboard.type(linkA);
        await op.keyboard.press('Enter');
        const wantA = JSON.stringify(['Yes: ', { a: cup }, ' (in stock)']);
        got = await until(async () => partsOf(await v4.w.parts(), linkA),
                          8000, 'the operator link in the widget');
        assert(shape(got) === wantA, 'widget: ' + shape(got));
        got = await until(async () =>
            partsOf(await consoleParts(op), linkA), 3000,
            'the operator link in the console');
        assert(shape(got) === wantA, 'console: ' + shape(got));

        await opens(v4.ctx, async () => {
            const w = partsOf(await v4.w.parts(), linkA)
                .find(x => x.tag === 'A');
            await v4.page.mouse.click(w.x, w.y);
        }, cup);
        await opens(opCtx, () => op.locator('#msgs .mt a[href="' + product +
                                            '"]').click({ timeout: 3000 }),
                    product);
        await shot(v4.page, 'widget-links.png');
        return 'both clicks opened a tab without opener or referrer';
    });

    await check('hostile texts: no link, or exactly the safe link, on ' +
                'both sides; no other element', async () => {
        const c = await conversation(page4);
        assert(c, 'no conversation for ' + page4);
        /* [text, its parts: a string is text, {a} a link] */
        const cases = [
            ['javascript:alert(1)', ['javascript:alert(1)']],
            ['data:text/html,<b>x</b>', ['data:text/html,<b>x</b>']],
            ['vbscript:msgbox(1)', ['vbscript:msgbox(1)']],
            ['http://a.test/"onmouseover="x',
             [{ a: 'http://a.test/' }, '"onmouseover="x']],
            ["http://a.test/'onclick='x'",
             [{ a: 'http://a.test/' }, "'onclick='x'"]],
            ['<a href=http://x.test>y</a>',
             ['<a href=', { a: 'http://x.test' }, '>y</a>']],
            ['http://x.test/<script>x</script>',
             [{ a: 'http://x.test/' }, '<script>x</script>']],
            ['(see http://x.test/p).',
             ['(see ', { a: 'http://x.test/p' }, ').']],
            ['http://x.test/Foo_(bar), ok',
             [{ a: 'http://x.test/Foo_(bar)' }, ', ok']],
            ['\uff48\uff54\uff54\uff50://x.test',
             ['\uff48\uff54\uff54\uff50://x.test']],
            ['http\uff1a//x.test', ['http\uff1a//x.test']],
            ['http://\uff58.test', ['http://\uff58.test']],
            ['http://a.test\u200b/x', [{ a: 'http://a.test' }, '\u200b/x']],
            ['javascript:alert(1)//http://a.test',
             ['javascript:alert(1)//', { a: 'http://a.test' }]],
            ['http://[x', ['http://[x']],
            ['http://...', ['http://...']],
            ['HTTPS://X.TEST/A?b=1&c=%20;',
             [{ a: 'HTTPS://X.TEST/A?b=1&c=%20' }, ';']],
            ['a\nhttp://x.test/1 http://x.test/2!\nb',
             ['a\n', { a: 'http://x.test/1' }, ' ', { a: 'http://x.test/2' },
              '!\nb']]
        ];
        for (const [text] of cases) {
            const r = await agent('POST', 'conversations/' +
                                  encodeURIComponent(c.id) + '/messages',
                                  { text });
            assert(r.status === 201, 'reply: ' + r.status + ' ' + r.text);
        }
        const side = async (name, get) => {
            const all = await until(async () => {
                const l = await get();
                return cases.every(([t]) => partsOf(l, t)) && l;
            }, 8000, 'every hostile text in the ' + name);
            const bad = cases.filter(([t, w]) =>
                shape(partsOf(all, t)) !== JSON.stringify(w))
                .map(([t]) => name + ': ' + JSON.stringify(t) + ' -> ' +
                     shape(partsOf(all, t)));
            return bad;
        };
        const bad = (await side('widget', () => v4.w.parts()))
            .concat(await side('console', () => consoleParts(op)));
        assert(!bad.length, bad.join('; '));
        const links = cases.reduce((n, [, w]) =>
            n + w.filter(x => typeof x !== 'string').length, 0);
        return cases.length + ' texts, ' + links + ' links on each side';
    });

    await check('#<CID> opens that conversation, with its address and ' +
                '"(direct)"; #forms the forms tab', async () => {
        const p = await opCtx.newPage();
        watch(p, 'console-deep-link');
        await p.goto(FRONT + '/chatport/agent/#' + cid);
        await until(async () => await p.locator('#conv').isVisible() &&
                    (await p.locator('#msgs .mt').allTextContents())
                        .includes(hello), 5000,
                    'the conversation of the link, open');
        const meta = await p.locator('#meta').textContent();
        assert(meta.includes(mail), 'no address in ' + meta);
        assert(meta.includes('(direct)'), 'no (direct) in ' + meta);
        await shot(p, 'console-deep-link.png');
        await p.goto(FRONT + '/chatport/agent/#forms');
        await until(async () => await p.locator('#p-f').isVisible() &&
                    !await p.locator('#p-c').isVisible(), 5000,
                    'the forms tab');
        await p.close();
    });

    await check('closing shows a notice in the widget', async () => {
        const c = await conversation(page4);
        const r = await agent('POST', 'conversations/' +
                              encodeURIComponent(c.id) + '/close', {});
        assert(r.status === 204, 'close: ' + r.status + ' ' + r.text);
        const t0 = Date.now();
        await until(async () => {
            const s = await v4.w.state();
            return s.shut && s.shut.shown;
        }, 4000, 'the notice in the widget');
        await shot(v4.page, 'widget-closed-notice.png');
        return 'shown ' + (Date.now() - t0) + ' ms after the close';
    });

    await shot(op, 'console-desktop.png');
    await shot(v4.page, 'widget-desktop-console-chat.png');
    await op.setViewportSize({ width: 360, height: 640 });
    await sleep(300);
    await shot(op, 'console-mobile-360x640.png');
    await op.locator('#back').click({ timeout: 3000 }).catch(() => {});
    await sleep(300);
    await shot(op, 'console-mobile-360x640-list.png');
    await op.locator('#tab-f').click({ timeout: 3000 }).catch(() => {});
    await sleep(300);
    await shot(op, 'console-mobile-360x640-forms.png');

    await check('first event on an empty inbox: one notification and one ' +
                'beep, after the sound prompt', async () => {
        const ctx = await browser.newContext({
            viewport: { width: 1280, height: 800 },
            httpCredentials: { username: USER, password: PASS } });
        /* counts what the console does: notifications (granted) and the
         * oscillators it starts */
        await ctx.addInitScript(() => {
            window.__notes = [];
            window.__beeps = 0;
            window.Notification = function (title, o) {
                window.__notes.push(title + ': ' + (o && o.body));
            };
            window.Notification.permission = 'granted';
            window.Notification.requestPermission = () =>
                Promise.resolve('granted');
            const make = AudioContext.prototype.createOscillator;
            AudioContext.prototype.createOscillator = function () {
                const o = make.call(this), start = o.start;
                o.start = function () {
                    window.__beeps++;
                    return start.apply(this, arguments);
                };
                return o;
            };
        });
        const p = await ctx.newPage();
        watch(p, 'console-empty');
        await p.goto(EMPTY + '/chatport/agent/');
        await until(() => p.locator('#unmute').isVisible(), 5000,
                    'the "click to enable sound" prompt');
        await shot(p, 'console-sound-prompt.png');
        await p.locator('#unmute').click({ timeout: 3000 });
        await until(async () => !await p.locator('#unmute').isVisible(),
                    3000, 'the sound prompt to go once sound plays');
        await sleep(700);          /* the inbox poll is parked */
        const r = await fetch(EMPTY + '/chatport/messages', {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ text: 'First one here ' + RUN,
                                   page: EMPTY + '/shop.html' }) });
        assert(r.status === 201, 'message: ' + r.status);
        await until(async () => await p.evaluate(() =>
            window.__notes.length && window.__beeps), 5000,
            'a notification and a beep');
        await sleep(700);
        const got = await p.evaluate(() => ({ notes: window.__notes,
                                              beeps: window.__beeps }));
        assert(got.notes.length === 1 && got.beeps === 1,
               JSON.stringify(got));
        await shot(p, 'console-first-event.png');
        await ctx.close();
        return got.notes[0];
    });

    await check('no answer within chatport_reply_wait (3 s there): the ' +
                'widget asks for an address while an operator is online',
                async () => {
        /* op2, online with a console's poll held on this site */
        const auth2 = 'Basic ' + Buffer.from('op2:' + PASS).toString('base64');
        const opE = (method, p, body) => fetch(EMPTY + '/chatport/agent/' + p, {
            method, headers: { Authorization: auth2,
                               'Content-Type': 'application/json' },
            body: body && JSON.stringify(body) });
        const r = await opE('POST', 'presence', { status: 'online' });
        assert(r.status === 204, 'presence: ' + r.status);
        const held2 = new AbortController();
        holdPoll(EMPTY, auth2, held2.signal);
        const w = await visitor(browser, 'reply-wait');
        try {
            await until(async () => (await (await fetch(EMPTY +
                '/chatport/config')).json()).online === true, 5000,
                'op2 available');
            await w.page.goto(EMPTY + '/shop.html?wait=' + RUN);
            await w.w.say('Is anybody reading this? ' + RUN);
            const st = await until(async () => {
                const s = await w.w.state();
                return s.ask && s.ask.shown && s;
            }, 12000, 'the question for an address');
            const c = await (await fetch(EMPTY + '/chatport/config')).json();
            assert(c.online === true && c.reply_wait === 3,
                   'config: ' + JSON.stringify(c));
            assert(st.textarea.shown && !(st.form && st.form.shown),
                   'not in the thread: ' + JSON.stringify(st));
            await sleep(300);
            await shot(w.page, 'widget-reply-wait-ask.png');
        } finally {
            held2.abort();
            await opE('POST', 'presence', { status: 'away' }).catch(() => {});
            await w.ctx.close();
        }
    });

    await check('a console in a background tab keeps its operator ' +
                'available; closed, it stops after the grace (2 s there)',
                async () => {
        const online = async () => (await (await fetch(EMPTY +
            '/chatport/config')).json()).online;
        await until(async () => await online() === false, 10000,
                    'nobody available on the site first');
        const ctx = await browser.newContext({
            viewport: { width: 1280, height: 800 },
            httpCredentials: { username: 'op3', password: PASS } });
        const p = await ctx.newPage();
        watch(p, 'console-background');
        await p.goto(EMPTY + '/chatport/agent/');
        await until(async () =>
            await p.locator('#op').textContent() === 'op3', 5000,
            'the console of op3');
        await p.locator('#presence').click({ timeout: 3000 });
        await until(online, 5000, 'op3 available');
        /* another tab in front, and this one told it is hidden */
        const front = await ctx.newPage();
        await front.goto(EMPTY + '/shop.html?front=' + RUN);
        await front.bringToFront();
        await p.evaluate(() => {
            Object.defineProperty(document, 'visibilityState',
                                  { get: () => 'hidden' });
            Object.defineProperty(document, 'hidden', { get: () => true });
            document.dispatchEvent(new Event('visibilitychange'));
            window.dispatchEvent(new Event('blur'));
        });
        await sleep(5000);
        assert(await online() === true,
               'a console in the background stopped counting');
        const label = await p.locator('#presence').textContent();
        await p.close();
        const t = Date.now();
        await until(async () => await online() === false, 15000,
                    'unavailable once the console is closed');
        await ctx.close();
        return 'button "' + label + '" while hidden; unavailable ' +
               (Date.now() - t) + ' ms after the console closed';
    });

    await pageChecks({ browser, check, assert, until, agent, visitor, watch,
                       shot, sleep, FRONT, RUN, USER, PASS });
    await require('./typing')(browser, { check, until, assert, visitor, shot,
        sleep, watch, FRONT, USER, PASS, RUN });
    await require('./team')(browser, { check, until, assert, visitor, shot,
        watch, agent, FRONT, PASS, RUN });
    await require('./cursor')(browser, { check, until, assert, agent,
        visitor, watch, sleep, FRONT, RUN });
    await images(browser, { check, assert, until, agent, visitor, shot,
                            conversation, watch, FRONT, USER, PASS, RUN });
    await require('./custom')(browser, { check, until, assert, agent,
        visitor, watch, shot, sleep, FRONT, RUN, USER, PASS });
    await require('./data')(browser, { check, until, assert, agent, watch,
        shot, FRONT, USER, PASS, RUN });
    await require('./list')(browser, { check, until, assert, watch, FRONT,
        USER, PASS, RUN });
    await require('./sites')(browser, { check, until, assert, visitor, shot,
        watch, FRONT, EMPTY, USER, PASS, RUN });

    await check('no uncaught script error on any page', async () => {
        const bad = watched.filter(w => w.errors.length);
        assert(!bad.length, JSON.stringify(bad));
    });

    for (const w of watched) {
        if (w.console.length) {
            log('console messages of', w.label + ':', JSON.stringify(w.console));
        }
    }
    await agent('POST', 'presence', { status: 'away' }).catch(() => {});
}

const guard = setTimeout(() => {
    log('giving up: the checks took more than 390 s');
    process.exit(2);
}, 390000);

main().then(() => {
    clearTimeout(guard);
    log('done');
}, e => {
    clearTimeout(guard);
    log('fatal:', e && e.stack || e);
    process.exitCode = 1;
});
