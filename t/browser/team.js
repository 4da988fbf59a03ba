'use strict';
/* Operators as a team in a real browser (issue 13, item 3), called by
 * run.js's checks() with its helpers. Two consoles on one site: "op"
 * (no display name) and "ana" (chatport_operator ana "Ana García" in
 * t/060's configuration). Ana types: op's console shows "Ana García is
 * replying…" in the list and in the open conversation, and no more once
 * she cleared the text; the visitor's widget shows "Ana García is
 * typing…" and her reply under that name. Ana claims the conversation:
 * op's list row and header say she has it. A canned reply inserted in
 * op's console with "/", its title filtered, Enter; canned replies made,
 * edited and deleted in the console's dialog. */

const NAME = 'Ana Garc\u00eda';

/* runs in the widget's shadow root: the typing line, each reply's
 * header (the name before " · time") and text */
function seen() {
    const who = this.querySelector('.who');
    return {
        who: who && !who.hidden && who.getBoundingClientRect().height > 0 ?
            who.textContent : null,
        replies: [...this.querySelectorAll('.log .msg:not(.me)')].map(m => ({
            meta: (m.querySelector('.meta') || {}).textContent || '',
            text: (m.querySelector('.text') || {}).textContent || '' }))
    };
}

module.exports = async function (browser, h) {
    const { check, until, assert, visitor, shot, watch, agent, FRONT, PASS,
            RUN } = h;
    const page = FRONT + '/shop.html?team=' + RUN;
    const q = 'Can I change my order? ' + RUN;
    const a = 'Yes, until it ships. ' + RUN;
    const v = await visitor(browser, 'team-visitor');
    const consoles = [];
    for (const user of ['op', 'ana']) {
        const ctx = await browser.newContext({
            viewport: { width: 1280, height: 800 },
            httpCredentials: { username: user, password: PASS } });
        const p = await ctx.newPage();
        watch(p, 'team-console-' + user);
        consoles.push({ ctx, p });
    }
    const [op, ana] = consoles.map(c => c.p);
    const row = p => p.locator('#convs li', {
        has: p.locator('.where a[href="' + page + '"]') });

    try {
        await check('"X is replying" appears in a second operator\'s ' +
                    'console (list and conversation) while another types, ' +
                    'by display name, and goes away', async () => {
            await v.page.goto(page);
            await v.w.say(q);
            for (const p of [op, ana]) {
                await p.goto(FRONT + '/chatport/agent/');
                await until(async () => await row(p).count() === 1, 8000,
                            'the conversation in the console');
                await row(p).locator('button.pickc').click({ timeout: 3000 });
            }
            await until(async () => (await ana.locator('#op').textContent())
                        === NAME + ' (ana)', 5000, 'ana\'s own name');
            await ana.locator('#text').click({ timeout: 3000 });
            await ana.keyboard.type('Yes, until', { delay: 40 });
            const t0 = Date.now();
            const want = NAME + ' is replying\u2026';
            await until(async () => !await op.locator('#typing').isHidden()
                        && await op.locator('#typing').textContent() === want,
                        5000, 'the line in op\'s open conversation');
            const snip = await row(op).locator('.snip').textContent();
            assert(snip === want, 'op\'s list says: ' + snip);
            const dt = Date.now() - t0;
            /* the sender's own console does not show itself */
            assert(await ana.locator('#typing').isHidden(),
                   'ana\'s console shows her own typing');
            await shot(op, 'console-replying.png');
            await ana.keyboard.press('Control+A');
            await ana.keyboard.press('Backspace');
            await until(async () => await op.locator('#typing').isHidden(),
                        8000, 'the line gone');
            return 'shown ' + dt + ' ms after the first key';
        });

        await check('the visitor\'s widget shows the operator\'s display ' +
                    'name while she types and on her reply', async () => {
            await ana.locator('#text').click({ timeout: 3000 });
            await ana.keyboard.type('Yes', { delay: 40 });
            const s = await until(async () => {
                const x = await v.w.inShadow(seen);
                return x.who && x;
            }, 5000, 'the typing line in the widget');
            assert(s.who === NAME + ' is typing\u2026', 'it says ' + s.who);
            await ana.keyboard.press('Control+A');
            await ana.keyboard.type(a);
            await ana.keyboard.press('Enter');
            await v.w.sees(a, 8000);
            const r = (await v.w.inShadow(seen)).replies
                .find(x => x.text === a);
            assert(r && r.meta.startsWith(NAME + ' \u00b7 '),
                   'the reply\'s header: ' + JSON.stringify(r));
            await shot(v.page, 'widget-display-name.png');
            /* and the console shows it too */
            await until(async () => await op.locator('#msgs li.agent .mh span')
                        .last().textContent() === NAME, 5000,
                        'op\'s console to name the reply ' + NAME);
            return r.meta;
        });

        await check('a claim in one console shows who has it in the ' +
                    'other\'s list and header', async () => {
            await ana.locator('#claim').click({ timeout: 3000 });
            await until(async () => await ana.locator('#holder')
                        .textContent() === 'Yours', 5000, 'ana: "Yours"');
            const want = 'Ana Garc\u00eda has it';
            await until(async () => await row(op).locator('.holder').count()
                        === 1 && await row(op).locator('.holder')
                        .textContent() === want, 5000, 'op\'s list row');
            const head = await op.locator('#holder').textContent();
            assert(head === want, 'op\'s header says ' + head);
            const btn = await op.locator('#claim').textContent();
            assert(btn === 'Take over', 'op\'s button says ' + btn);
            await shot(op, 'console-claimed.png');
            await ana.locator('#claim').click({ timeout: 3000 });
            await until(async () => await row(op).locator('.holder').count()
                        === 0, 5000, 'released: no holder in op\'s list');
        });

        await check('a canned reply is inserted with "/" in the reply box',
                    async () => {
            const text = 'Your order ships within 2 days. ' + RUN;
            const r = await agent('POST', 'canned',
                                  { title: 'Shipping ' + RUN, text });
            assert(r.status === 201, 'POST canned: ' + r.status + r.text);
            await op.reload();
            await row(op).locator('button.pickc').click({ timeout: 5000 });
            await op.locator('#text').click({ timeout: 3000 });
            await op.keyboard.type('Hi! /ship', { delay: 30 });
            await until(async () => await op.locator('#cmenu li').count() >= 1
                        && !await op.locator('#cmenu').isHidden(), 5000,
                        'the menu');
            await shot(op, 'console-canned-menu.png');
            await op.keyboard.press('Enter');
            const v2 = await op.locator('#text').inputValue();
            assert(v2 === 'Hi! ' + text, 'the reply box holds ' +
                   JSON.stringify(v2));
            await op.keyboard.press('Control+A');
            await op.keyboard.press('Backspace');
            await agent('DELETE', 'canned/' + r.j.id);
        });

        await check('canned replies are created, edited and deleted in ' +
                    'the console', async () => {
            const title = 'Returns ' + RUN;
            const mine = async () => ((await agent('GET', 'canned')).j
                .canned || []).filter(x => x.title === title);
            await op.locator('#cannedb').click({ timeout: 3000 });
            await op.locator('#canned .ch button', { hasText: 'New canned reply' })
                .click({ timeout: 3000 });
            await op.locator('#cform [name=ctitle]').fill(title);
            await op.locator('#cform [name=ctext]')
                .fill('Unopened tea can be returned within 14 days.');
            await op.locator('#cform button', { hasText: 'Save' }).click();
            const row = op.locator('#clist li', { hasText: title });
            await until(async () => await row.count() === 1, 5000,
                        'the new one in the dialog');
            let got = await mine();
            assert(got.length === 1 && got[0].by === 'op',
                   'stored: ' + JSON.stringify(got));
            await row.locator('button', { hasText: 'Edit' }).click();
            await op.locator('#cform [name=ctext]').fill('Within 30 days.');
            await op.locator('#cform button', { hasText: 'Save' }).click();
            await until(async () => (await mine())[0].text ===
                        'Within 30 days.', 5000, 'the edit stored');
            await until(async () => (await row.locator('.mt').textContent())
                        === 'Within 30 days.', 5000, 'the edit shown');
            await shot(op, 'console-canned-dialog.png');
            await row.locator('button', { hasText: 'Delete' }).click();
            await until(async () => await row.count() === 0 &&
                        (await mine()).length === 0, 5000, 'deleted');
            await op.keyboard.press('Escape');
        });
    } finally {
        for (const c of consoles) { await c.ctx.close(); }
        await v.ctx.close();
    }
};
