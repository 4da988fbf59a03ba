'use strict';
/* The page the visitor is on (issue #12, item 5), called from run.js's
 * checks() with its helpers: nothing is reported before the visitor
 * writes, then one report per page load; the operator's open
 * conversation follows the visitor from one page to another live (no
 * reload), with the page history in order and with times; the user agent
 * summarised ("Chrome · Android"), its raw string on demand; "(direct)"
 * for a direct visit. Also uaName() of the console over a table of user
 * agents. */

const fs = require('fs');
const path = require('path');

const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) ' +
    'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile ' +
    'Safari/537.36';

/* user agents and what the console calls them */
const AGENTS = [
    [ANDROID, 'Chrome \u00b7 Android'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) ' +
     'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 ' +
     'Safari/604.1', 'Safari \u00b7 iPhone'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 ' +
     'Firefox/127.0', 'Firefox \u00b7 Windows'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 ' +
     '(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
     'Edge \u00b7 Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 ' +
     '(KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari \u00b7 macOS'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) ' +
     'AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 ' +
     'Mobile/15E148 Safari/604.1', 'Chrome \u00b7 iPhone'],
    ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, ' +
     'like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
     'Samsung Internet \u00b7 Android'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like ' +
     'Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0',
     'Opera \u00b7 Linux'],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, ' +
     'like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Chrome \u00b7 ChromeOS'],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; ' +
     '+http://www.google.com/bot.html)', 'Bot'],
    ['curl/8.5.0', '']
];

/* runs in the console: the open conversation's rows as text, the page
 * history's entries, and the user agent's summary and raw string */
function consoleMeta() {
    const rows = {};
    document.querySelectorAll('#meta dt').forEach(dt => {
        rows[dt.textContent] = dt.nextElementSibling;
    });
    const text = {};
    for (const k in rows) { text[k] = rows[k].textContent; }
    const hist = rows['Pages visited'];
    const ua = rows.Browser && rows.Browser.querySelector('details');
    return {
        text,
        current: rows.Page && {
            title: (rows.Page.querySelector('.ptitle') || {}).textContent,
            href: (rows.Page.querySelector('a') || {}).href },
        pages: hist ? Array.from(hist.querySelectorAll('li'), li => ({
            time: li.querySelector('time').textContent,
            title: li.querySelector('.ptitle').textContent,
            href: li.querySelector('a').getAttribute('href') })) : null,
        historyOpen: !!(hist && hist.querySelector('details').open),
        ua: ua && { summary: ua.querySelector('summary').textContent,
                    raw: ua.querySelector('summary + .ua').textContent,
                    rawShown: ua.open && ua.querySelector('summary + .ua')
                        .checkVisibility() },
        marker: window.__samePage === 1
    };
}

module.exports = async function pageChecks(h) {
    const { browser, check, assert, until, agent, visitor, watch, shot,
            sleep, FRONT, RUN, USER, PASS } = h;

    await check('the console summarises a user agent as its browser and ' +
                'system', async () => {
        const src = fs.readFileSync(path.join(__dirname, '..', '..',
                                              'widget', 'console.js'), 'utf8');
        const m = /\n {2}function uaName\(s\) \{\n[\s\S]*?\n {2}\}\n/.exec(src);
        assert(m, 'no uaName() in widget/console.js');
        const uaName = new Function(m[0] + '; return uaName;')();
        const bad = AGENTS.filter(([s, want]) => uaName(s) !== want)
            .map(([s, want]) => s + ' -> ' + uaName(s) + ', not ' + want);
        assert(!bad.length, bad.join('; '));
        return AGENTS.length + ' user agents';
    });

    const pageA = FRONT + '/shop.html?pages=' + RUN;
    const pageB = FRONT + '/about.html?pages=' + RUN;
    const hello = 'Which teapot suits green tea? ' + RUN;
    const v = await visitor(browser, 'page-visitor', { userAgent: ANDROID });
    const reports = [];
    v.page.on('request', r => {
        if (r.method() === 'POST' && /\/chatport\/page$/.test(r.url())) {
            reports.push(JSON.parse(r.postData() || '{}'));
        }
    });
    /* the answer to the next report of the visitor's page */
    const answered = () => v.page.waitForResponse(r =>
        /\/chatport\/page$/.test(r.url()) && r.request().method() === 'POST',
        { timeout: 8000 });
    let cid;

    await check('nothing is reported before the visitor writes; then one ' +
                'report per page load', async () => {
        await v.page.goto(pageA);
        await v.w.launcher();
        await v.w.open();
        await sleep(1000);
        assert(!reports.length, 'reported before writing: ' +
               JSON.stringify(reports));
        const a = answered();
        await v.w.say(hello);
        const status = (await a).status();
        assert(status === 204, 'report: ' + status);
        const r = reports[0];
        assert(r.url === pageA && r.title === 'Tea & Cups',
               'report: ' + JSON.stringify(r));
        const list = await agent('GET', 'conversations?limit=100');
        const c = list.j.conversations.find(x => x.first_page === pageA);
        assert(c, 'no conversation opened on ' + pageA);
        cid = c.id;
        await sleep(500);
        assert(reports.length === 1, 'reports: ' + reports.length);
        const p = await agent('GET', 'conversations/' + cid + '/pages');
        assert(p.status === 200 && p.j.pages.length === 1 &&
               p.j.pages[0].title === 'Tea & Cups',
               'pages: ' + p.status + ' ' + p.text);
        return 'report ' + JSON.stringify(r);
    });

    const opCtx = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        httpCredentials: { username: USER, password: PASS } });
    const op = await opCtx.newPage();
    watch(op, 'console-pages');

    await check('the operator sees the visitor move from one page to ' +
                'another live, the history in order with times, the user ' +
                'agent summarised with its raw string on demand, ' +
                '"(direct)" for a direct visit', async () => {
        assert(cid, 'no conversation');
        await op.goto(FRONT + '/chatport/agent/#' + cid);
        let m = await until(async () => {
            const x = await op.evaluate(consoleMeta);
            return x.current && x.current.href === pageA &&
                x.current.title === 'Tea & Cups' && x.pages && x;
        }, 5000, 'the open conversation on page A, with its title');
        assert(m.text.Referrer === '(direct)',
               'referrer: ' + JSON.stringify(m.text.Referrer));
        assert(m.ua && m.ua.summary === 'Chrome \u00b7 Android' &&
               m.ua.raw === ANDROID && !m.ua.rawShown,
               'user agent: ' + JSON.stringify(m.ua));
        await op.locator('#meta details.more summary', { hasText: 'Chrome' })
            .click({ timeout: 3000 });
        m = await op.evaluate(consoleMeta);
        assert(m.ua.rawShown, 'the raw user agent is not shown on click');

        /* the console stays the same page: no reload */
        await op.evaluate(() => { window.__samePage = 1; });
        /* each page's report answered before the visitor moves on */
        let a = answered();
        await v.page.locator('a[href="/about.html"]').click();
        assert((await a).status() === 204, 'the report of about.html');
        a = answered();
        await v.page.goto(pageB);
        assert((await a).status() === 204, 'the report of page B');
        assert(reports.length === 3, 'reports: ' + JSON.stringify(reports));
        const t0 = Date.now();
        m = await until(async () => {
            const x = await op.evaluate(consoleMeta);
            return x.current && x.current.href === pageB &&
                x.pages.length === 3 && x;
        }, 5000, 'page B in the console');
        const dt = Date.now() - t0;
        assert(m.marker, 'the console was reloaded');
        assert(m.current.title === 'About Tea & Cups',
               'current title: ' + JSON.stringify(m.current));
        await op.locator('#meta details.more summary', { hasText: 'pages' })
            .click({ timeout: 3000 });
        m = await op.evaluate(consoleMeta);
        const trail = m.pages.map(p => p.href + ' ' + p.title);
        assert(JSON.stringify(trail) === JSON.stringify([
            pageA + ' Tea & Cups',
            FRONT + '/about.html About Tea & Cups',
            pageB + ' About Tea & Cups']), 'history: ' +
               JSON.stringify(trail));
        assert(m.historyOpen && m.pages.every(p => /\d:\d\d/.test(p.time)),
               'times: ' + JSON.stringify(m.pages));
        /* the list shows where the visitor is too */
        const where = await op.locator('#convs li.sel .where a')
            .first().getAttribute('href');
        assert(where === pageB, 'the list shows ' + where);
        await shot(op, 'console-pages.png');
        await shot(v.page, 'widget-pages-about.png');
        return 'page B shown ' + dt + ' ms after its report; history: ' +
            trail.join(' | ');
    });

    await opCtx.close();
    await v.ctx.close();
};
