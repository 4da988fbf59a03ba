'use strict';
/* Typing and seen in a real browser (issue 12, items 1 and 2), called by
 * run.js's checks() with its helpers: a visitor and an operator's console
 * of their own. The visitor types: the console shows it in the list and
 * in the open conversation, and no more once the text is cleared; the
 * operator types: the widget shows "<name> is typing…", until the reply.
 * "Seen" under the visitor's last message once the operator opened the
 * conversation, "Seen by the visitor" under the operator's last reply
 * once the widget showed it, both still there after a reload. */

/* runs in the widget's shadow root: the typing line and "Seen" */
function marks() {
    const shown = e => !!e && !e.hidden && e.getBoundingClientRect().height > 0;
    const who = this.querySelector('.who');
    const seen = this.querySelector('.log .seen');
    const under = seen && seen.previousElementSibling;
    return {
        who: shown(who) ? who.textContent : null,
        seen: shown(seen) ? seen.textContent : null,
        under: under && under.classList.contains('me') ?
            under.querySelector('.text').textContent : null
    };
}

/* runs in the console: the same, there */
function consoleMarks() {
    const seen = document.querySelector('#msgs li.seen');
    const under = seen && seen.previousElementSibling;
    const typing = document.querySelector('#typing');
    return {
        typing: typing && !typing.hidden ? typing.textContent : null,
        seen: seen && !seen.hidden ? seen.textContent : null,
        under: under && under.classList.contains('agent') ?
            under.querySelector('.mt').textContent : null
    };
}

module.exports = async function (browser, h) {
    const { check, until, assert, visitor, shot, sleep, watch, FRONT, USER,
            PASS, RUN } = h;
    const page = FRONT + '/shop.html?typing=' + RUN;
    const q1 = 'Do you gift-wrap? ' + RUN;
    const a1 = 'We do, for free. ' + RUN;
    const v = await visitor(browser, 'typing-visitor');
    const ctx = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        httpCredentials: { username: USER, password: PASS } });
    const op = await ctx.newPage();
    watch(op, 'typing-console');
    const wm = () => v.w.inShadow(marks);
    const cm = () => op.evaluate(consoleMarks);
    let item;

    try {
        await check('"Seen" appears in the widget once an operator opens ' +
                    'the conversation', async () => {
            await v.page.goto(page);
            await v.w.say(q1);
            await op.goto(FRONT + '/chatport/agent/');
            item = op.locator('#convs li', {
                has: op.locator('.where a[href="' + page + '"]') });
            await until(async () => await item.count() === 1, 5000,
                        'the conversation in the console');
            let m = await wm();
            assert(!m.seen, 'seen before any operator read it: ' +
                   JSON.stringify(m));
            await item.locator('button.pickc').click({ timeout: 3000 });
            const t0 = Date.now();
            m = await until(async () => {
                const x = await wm();
                return x.seen && x;
            }, 5000, '"Seen" in the widget');
            assert(m.seen === 'Seen' && m.under === q1,
                   'not under the last message: ' + JSON.stringify(m));
            await shot(v.page, 'widget-seen.png');
            return 'shown ' + (Date.now() - t0) + ' ms after the click';
        });

        await check('the visitor types: the console shows it in the list ' +
                    'and the open conversation, and stops showing it',
                    async () => {
            const st = await v.w.open();
            await v.w.click(st.textarea);
            await v.page.keyboard.type('I also wanted to', { delay: 40 });
            const t0 = Date.now();
            await until(async () => (await cm()).typing ===
                        'Visitor is typing\u2026', 5000,
                        'the typing line of the open conversation');
            const snip = await item.locator('.snip').textContent();
            assert(snip === 'Visitor is typing\u2026',
                   'the list says: ' + snip);
            const dt = Date.now() - t0;
            await shot(op, 'console-visitor-typing.png');
            /* the text cleared: a stop */
            await v.page.keyboard.press('Control+A');
            await v.page.keyboard.press('Backspace');
            const t1 = Date.now();
            await until(async () => !(await cm()).typing &&
                        await item.locator('.snip').textContent() === q1,
                        8000, 'the typing line gone');
            return 'shown ' + dt + ' ms after the first key, gone ' +
                (Date.now() - t1) + ' ms after the text was cleared';
        });

        await check('the operator types in the console: the widget shows ' +
                    '"<name> is typing..." until the reply', async () => {
            await op.locator('#text').click({ timeout: 3000 });
            await op.keyboard.type('We do', { delay: 40 });
            const t0 = Date.now();
            const m = await until(async () => {
                const x = await wm();
                return x.who && x;
            }, 5000, 'the typing line in the widget');
            assert(m.who === USER + ' is typing\u2026', 'it says ' + m.who);
            const dt = Date.now() - t0;
            await shot(v.page, 'widget-operator-typing.png');
            await op.keyboard.press('Control+A');
            await op.keyboard.type(a1);
            await op.keyboard.press('Enter');
            await v.w.sees(a1, 8000);
            await until(async () => !(await wm()).who, 3000,
                        'the typing line gone with the reply');
            return 'shown ' + dt + ' ms after the first key';
        });

        await check('"Seen by the visitor" in the console once the widget ' +
                    'showed the reply, also after reloads', async () => {
            let m = await until(async () => {
                const x = await cm();
                return x.seen && x;
            }, 5000, '"Seen by the visitor" in the console');
            assert(m.seen === 'Seen by the visitor' && m.under === a1,
                   'not under the reply: ' + JSON.stringify(m));
            await shot(op, 'console-seen.png');
            await op.reload();
            await item.locator('button.pickc').click({ timeout: 5000 });
            m = await until(async () => {
                const x = await cm();
                return x.seen && x;
            }, 5000, '"Seen by the visitor" after the console reloaded');
            assert(m.under === a1, JSON.stringify(m));
            await v.page.reload();
            /* the panel reopens by itself: a click before would close it */
            await v.w.launcher();
            await v.w.open();
            m = await until(async () => {
                const x = await wm();
                return x.seen && x;
            }, 5000, '"Seen" after the widget reloaded');
            assert(m.under === q1, JSON.stringify(m));
            /* a newer message is not seen yet; the open console sees it */
            const q2 = 'And ribbons? ' + RUN;
            await v.w.say(q2);
            m = await until(async () => {
                const x = await wm();
                return x.under === q2 && x;
            }, 8000, '"Seen" under the newer message');
            await sleep(200);
            await shot(v.page, 'widget-seen-again.png');
        });
    } finally {
        await ctx.close();
        await v.ctx.close();
    }
};
