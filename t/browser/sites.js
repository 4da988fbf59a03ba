'use strict';
/* One console for two sites: t/060's front server has an operator
 * location /chatport/sites/ with "chatport_agent_sites" listing its own
 * site and the empty-inbox server's. Each conversation in the list is
 * labelled with its site, a reply typed in the console reaches the
 * visitor of that site only, and presence is set per site. Called by
 * run.js's checks() with its helpers. */

module.exports = async function (browser, h) {
    const { check, until, assert, visitor, shot, watch, FRONT, EMPTY, USER,
            PASS, RUN } = h;
    const SITE = 't060-' + RUN;
    const sites = [ { name: SITE, origin: FRONT },
                    { name: SITE + '-empty', origin: EMPTY } ];
    const ctx = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        httpCredentials: { username: USER, password: PASS } });
    const op = await ctx.newPage();
    watch(op, 'sites-console');

    /* what the widget's visitor API holds for the visitor */
    const texts = v => v.page.evaluate(() => fetch('/chatport/messages')
        .then(r => r.json()).then(j => j.messages.map(m => m.text)));

    /* online or not for the site's visitors, and the site's button */
    const config = async s => (await (await fetch(s.origin +
        '/chatport/config')).json()).online;
    const button = s => op.locator('#sitepres button[data-site="' + s.name +
                                   '"]');
    async function set(s, on) {
        /* the button shows the site's status once the console read it */
        await until(async () => await button(s).getAttribute('aria-pressed')
                    !== null, 5000, s.name + ' status shown');
        if (await button(s).getAttribute('aria-pressed') !== String(on)) {
            await button(s).click({ timeout: 3000 });
        }
        await until(async () => await button(s).getAttribute('aria-pressed')
                    === String(on), 5000, s.name + ' pressed ' + on);
        await until(async () => await config(s) === on, 8000,
                    s.name + (on ? ' online' : ' offline') +
                    ' for its visitors');
    }

    await check('one console for two sites: each conversation is labelled ' +
                'with its site', async () => {
        const r = await op.goto(FRONT + '/chatport/sites/');
        assert(r.status() === 200, 'console: ' + r.status());
        await until(async () => await op.locator('#op').textContent() === USER,
                    5000, 'the operator name in the console');
        const buttons = await op.locator('#sitepres button').allTextContents();
        assert(buttons.length === 2, 'one presence button per site: ' +
               JSON.stringify(buttons));
        /* the console's polls (one per site) make it present on both */
        for (const s of sites) {
            await set(s, true);
        }
        for (const s of sites) {
            s.page = s.origin + '/shop.html?sites=' + RUN;
            s.v = await visitor(browser, 'sites-' + s.name);
            await s.v.page.goto(s.page);
            await s.v.w.say('A question for ' + s.name + ' ' + RUN);
        }
        const info = [];
        for (const s of sites) {
            s.item = op.locator('#convs li', {
                has: op.locator('.where a[href="' + s.page + '"]') });
            await until(async () => await s.item.count() === 1, 5000,
                        'the conversation of ' + s.name + ' in the list');
            const tag = await s.item.locator('.tag').textContent();
            assert(tag === s.name, 'labelled "' + tag + '", not ' + s.name);
            info.push(s.name + ': "' + tag + '"');
        }
        await shot(op, 'console-sites.png');
        return info.join(', ') + '; presence ' + JSON.stringify(
            await op.locator('#sitepres button').allTextContents());
    });

    await check('one console for two sites: a reply goes to the visitor of ' +
                'its site, presence is set per site', async () => {
        const [a, b] = sites;
        const reply = 'An answer for ' + b.name + ' ' + RUN;
        await b.item.locator('button.pickc').click({ timeout: 3000 });
        await op.locator('#text').click({ timeout: 3000 });
        await op.keyboard.type(reply);
        await op.keyboard.press('Enter');
        await b.v.w.sees(reply, 8000);
        assert(!(await texts(a.v)).includes(reply),
               'the visitor of ' + a.name + ' got the reply');

        /* away on the second site: the first stays online */
        await set(b, false);
        assert(await config(a) === true, a.name + ' went offline too');
        await set(a, false);
        await ctx.close();
        for (const s of sites) {
            await s.v.ctx.close();
        }
        return 'the reply reached ' + b.name + ' only; ' + b.name +
               ' away while ' + a.name + ' stayed online';
    });
};
