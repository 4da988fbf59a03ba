'use strict';
/* Customisation without forking (issue 13, item 6), on the CP_CUSTOM
 * server: its hours are closed (the contact form shows), the launcher is
 * on the left 90 px up, the fields have labels (order_no: "Order number",
 * "注文番号" in Japanese), the offline and thank-you texts and a privacy
 * link are set, and the form is long. Then a multi-line reply written in
 * the operator console on a phone (a touch screen: Enter is a new line,
 * Send sends) reaches the widget on CP_FRONT with its line break.
 * Called by run.js's checks() with its helpers. */

const CUSTOM = process.env.CP_CUSTOM;
const OFFLINE = 'Closed now: leave your order number and we reply by ' +
                'tomorrow.';
const THANKS = 'Thanks, we got your order question.';

/* runs in the widget's shadow root: the contact form as it shows */
function formView() {
    const box = e => {
        const r = e.getBoundingClientRect();
        return { x: r.x, y: r.y, w: r.width, h: r.height };
    };
    const colour = s => s.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
    /* WCAG relative luminance and contrast */
    const lum = c => {
        const l = c.map(v => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
        });
        return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
    };
    const contrast = (a, b) => {
        const x = lum(colour(a)), y = lum(colour(b));
        return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
    };
    const q = s => this.querySelector(s);
    const body = q('.body'), note = q('.off > .note'), panel = q('.panel'),
          form = q('.off form'), nb = box(note), bb = box(body);
    const cs = e => getComputedStyle(e);
    /* what is at the offline text's centre: the text itself, not a field
     * scrolled over it */
    const hit = this.elementFromPoint(nb.x + nb.w / 2, nb.y + nb.h / 2);
    const label = q('.off form label');
    const link = q('.off .pv a');
    return {
        labels: Array.from(this.querySelectorAll('.off form label'),
                           e => e.textContent),
        auto: Object.fromEntries(Array.from(
            this.querySelectorAll('.off form [name]'),
            e => [e.name, e.getAttribute('autocomplete')])),
        note: note.textContent, noteBox: nb, bodyBox: bb,
        noteOnTop: hit === note || note.contains(hit),
        scrolled: body.scrollTop, scrollable: body.scrollHeight - body.clientHeight,
        launcher: box(q('.launcher')), panel: box(panel),
        link: link && { href: link.getAttribute('href'), text: link.textContent,
                        target: link.getAttribute('target'),
                        rel: link.getAttribute('rel') },
        /* the colours a visitor reads */
        panelBg: cs(panel).backgroundColor, bodyBg: cs(body).backgroundColor,
        text: contrast(cs(note).color, cs(note).backgroundColor === 'rgba(0, 0, 0, 0)'
                       ? cs(body).backgroundColor : cs(note).backgroundColor),
        labelText: contrast(cs(label).color, cs(body).backgroundColor),
        input: contrast(cs(q('.off form input')).color,
                        cs(q('.off form input')).backgroundColor),
        linkText: link ? contrast(cs(link).color, cs(body).backgroundColor) : 0,
        status: Array.from(this.querySelectorAll('.body [role=status]'),
                           e => e.textContent).join(' '),
        formShown: !!form && form.getBoundingClientRect().height > 0
    };
}

/* runs in the widget's shadow root: the rendered text of the messages
 * (innerText keeps a line break only where it shows as one) */
function rendered() {
    return Array.from(this.querySelectorAll('.log .text'), e => e.innerText);
}

module.exports = async function (browser, h) {
    const { check, until, assert, agent, visitor, watch, shot, sleep, FRONT,
            RUN, USER, PASS } = h;
    const page = CUSTOM + '/shop.html?custom=' + RUN;

    const v = await visitor(browser, 'custom-visitor');
    const view = () => v.w.inShadow(formView);

    await check('custom: the form shows the configured labels (not the ' +
                'field names), the offline text, autocomplete hints and ' +
                'the privacy link', async () => {
        await v.page.goto(page);
        await v.w.open();
        const f = await until(async () => {
            const x = await view();
            return x && x.formShown && x;
        }, 5000, 'the contact form');
        assert(f.labels.includes('Order number *') &&
               f.labels.includes('Size') && f.labels.includes('Colour') &&
               !f.labels.some(l => /^(order_no|size|colour)( \*)?$/.test(l)),
               'labels: ' + JSON.stringify(f.labels));
        assert(f.note === OFFLINE, 'offline text: ' + f.note);
        assert(f.auto.name === 'name' && f.auto.email === 'email' &&
               f.auto.tel === 'tel' && f.auto.company === 'organization' &&
               !f.auto.order_no, 'autocomplete: ' + JSON.stringify(f.auto));
        assert(f.link && f.link.href === 'https://shop.example/privacy' &&
               f.link.target === '_blank' &&
               /(^| )noopener( |$)/.test(f.link.rel) &&
               f.link.text === 'Privacy policy',
               'privacy link: ' + JSON.stringify(f.link));
        return JSON.stringify(f.labels);
    });

    await check('custom: a Japanese browser gets the Japanese label',
                async () => {
        const j = await visitor(browser, 'custom-ja', { locale: 'ja-JP' });
        try {
            await j.page.goto(page + '&ja=1');
            await j.w.open();
            const f = await until(async () => {
                const x = await j.w.inShadow(formView);
                return x && x.formShown && x;
            }, 5000, 'the contact form');
            assert(f.labels.includes('\u6ce8\u6587\u756a\u53f7 *') &&
                   f.link.text === '\u30d7\u30e9\u30a4\u30d0\u30b7\u30fc' +
                   '\u30dd\u30ea\u30b7\u30fc',
                   'labels: ' + JSON.stringify(f.labels) + ', link ' +
                   JSON.stringify(f.link));
            /* ASCII: the .t file's diag prints bytes */
            return f.labels.length + ' labels, order_no in Japanese';
        } finally {
            await j.ctx.close();
        }
    });

    await check('custom: chatport_position left 90px puts the launcher and ' +
                'the panel on the left above a 90 px bar; dark mode follows ' +
                'prefers-color-scheme with readable contrast (screenshots)',
                async () => {
        const light = await view();
        const vh = 800;
        const l = light.launcher, p = light.panel;
        assert(Math.abs(l.x - 20) <= 1 &&
               Math.abs(vh - (l.y + l.h) - 90) <= 1,
               'launcher ' + JSON.stringify(l));
        assert(Math.abs(p.x - 20) <= 1 && p.y + p.h <= l.y,
               'panel ' + JSON.stringify(p));
        await shot(v.page, 'custom-left-light.png');
        await v.page.emulateMedia({ colorScheme: 'dark' });
        const dark = await until(async () => {
            const x = await view();
            return x.panelBg !== light.panelBg && x;
        }, 3000, 'the dark colours');
        await shot(v.page, 'custom-left-dark.png');
        const dim = s => s.match(/\d+/g).slice(0, 3).every(n => +n < 80);
        assert(dim(dark.panelBg) && dim(dark.bodyBg),
               'dark backgrounds: ' + dark.panelBg + ', ' + dark.bodyBg);
        for (const k of ['text', 'labelText', 'input', 'linkText']) {
            assert(dark[k] >= 4.5 && light[k] >= 4.5,
                   k + ' contrast light ' + light[k].toFixed(2) + ', dark ' +
                   dark[k].toFixed(2));
        }
        await v.page.emulateMedia({ colorScheme: 'light' });
        return 'contrast dark: text ' + dark.text.toFixed(1) + ', labels ' +
               dark.labelText.toFixed(1) + ', fields ' + dark.input.toFixed(1);
    });

    await check('custom: on a 360x560 phone a long form scrolls under the ' +
                'offline text, which stays in view', async () => {
        const m = await visitor(browser, 'custom-phone',
                                { viewport: { width: 360, height: 560 } });
        try {
            await m.page.goto(page + '&phone=1');
            await m.w.open();
            await until(async () => (await m.w.inShadow(formView)).formShown,
                        5000, 'the contact form');
            /* the visitor goes down to the message box, the last field */
            await m.w.inShadow(function () {
                this.querySelector('.off form textarea').focus();
            });
            await m.page.keyboard.type('Where is my order?');
            await sleep(300);
            const f = await m.w.inShadow(formView);
            await shot(m.page, 'custom-long-form-360x560.png');
            assert(f.scrollable > 100 && f.scrolled > 100,
                   'the form is not longer than the panel: ' +
                   JSON.stringify([f.scrollable, f.scrolled]));
            assert(f.noteBox.y >= f.bodyBox.y - 1 &&
                   f.noteBox.y + f.noteBox.h <= f.bodyBox.y + f.bodyBox.h &&
                   f.noteOnTop,
                   'offline text out of view: ' + JSON.stringify(f));
            return 'scrolled ' + f.scrolled + ' px, offline text at y ' +
                   f.noteBox.y;
        } finally {
            await m.ctx.close();
        }
    });

    await check('custom: the configured thank-you text after sending the ' +
                'form', async () => {
        const fill = { name: 'Aiko', email: 'aiko@example.jp',
                       order_no: 'A-1234', message: 'Where is my order?' };
        for (const [name, text] of Object.entries(fill)) {
            await v.w.inShadow(function (n) {
                this.querySelector('.off form [name="' + n + '"]').focus();
            }, name);
            await v.page.keyboard.type(text);
        }
        await v.w.inShadow(function () {
            this.querySelector('.off form .send').focus();
        });
        await v.page.keyboard.press('Enter');
        return until(async () => {
            const s = await v.w.inShadow(function () {
                return Array.from(this.querySelectorAll('.body [role=status]'),
                                  e => e.textContent).join(' ');
            });
            return s.includes(THANKS) && s;
        }, 8000, 'the thank-you text');
    });
    await v.ctx.close();

    await check('custom: a multi-line reply written in the console on a ' +
                'phone (Enter: new line, Send sends) arrives with its line ' +
                'break, and shows as two lines on both sides', async () => {
        const w = await visitor(browser, 'custom-multiline');
        const ctx = await browser.newContext({
            viewport: { width: 390, height: 844 }, isMobile: true,
            hasTouch: true,
            httpCredentials: { username: USER, password: PASS } });
        try {
            const at = FRONT + '/shop.html?multiline=' + RUN;
            await w.page.goto(at);
            await w.w.say('Can you write two lines? ' + RUN);
            const c = await until(async () => {
                const r = await agent('GET', 'conversations?limit=100');
                return r.j && r.j.conversations.find(x =>
                    x.first_page === at);
            }, 5000, 'the conversation');
            const op = await ctx.newPage();
            watch(op, 'custom-phone-console');
            await op.goto(FRONT + '/chatport/agent/#' + c.id);
            const ta = op.locator('#text');
            await ta.waitFor({ state: 'visible', timeout: 5000 });
            /* the sound prompt over the page goes with the first tap */
            await op.locator('#unmute').tap({ timeout: 3000 })
                .catch(() => {});
            await ta.tap({ timeout: 5000 });
            await op.keyboard.type('Line one');
            await op.keyboard.press('Enter');
            await op.keyboard.type('Line two');
            await sleep(300);
            const typed = await ta.inputValue();
            assert(typed === 'Line one\nLine two',
                   'Enter on a phone did not make a new line: ' +
                   JSON.stringify(typed));
            const sent = await agent('GET', 'conversations/' + c.id +
                                     '/messages');
            assert(!sent.j.messages.some(m => m.from === 'agent'),
                   'Enter sent the reply');
            await op.locator('#send').tap();
            const text = 'Line one\nLine two';
            await w.w.sees(text, 5000);
            const shown = await w.w.inShadow(rendered);
            assert(shown.includes(text),
                   'the widget shows it on one line: ' +
                   JSON.stringify(shown));
            const mine = await until(async () => {
                const all = await op.locator('#msgs .mt').evaluateAll(
                    l => l.map(e => e.innerText));
                return all.includes(text) && all;
            }, 5000, 'the console to show it on two lines');
            await shot(op, 'custom-console-multiline-phone.png');
            await shot(w.page, 'custom-widget-multiline.png');
            return JSON.stringify(mine.slice(-1));
        } finally {
            await ctx.close();
            await w.ctx.close();
        }
    });
};
