'use strict';
/* The console's list in a real browser (issue 13, items 1 and 7), called
 * by run.js's checks() with its helpers. A Japanese conversation, then
 * 120 more, each opened by a visitor of its own: the console shows the
 * newest page, and scrolling the list loads the older ones (down to the
 * Japanese one), none twice. A visitor's message moves their row to the
 * top, and only that row is drawn again (the other rows' nodes stay). The
 * search box finds the Japanese conversation by a word inside its text
 * (東京 in 東京都の配送について), which was not among those loaded. */

/* runs in the console: the rows' texts */
function rows() {
    return Array.from(document.querySelectorAll('#convs li'))
        .map(li => li.querySelector('.snip').textContent);
}

module.exports = async function (browser, h) {
    const { check, until, assert, watch, FRONT, USER, PASS, RUN } = h;
    const N = 120;
    const tag = 'Paging ' + RUN + ' #';
    const ja = '東京都の配送について教えてください ' + RUN;
    const cookies = [];

    /* a new visitor's first message: its cookie */
    async function open(text) {
        const r = await fetch(FRONT + '/chatport/messages', {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ text, page: FRONT + '/shop.html' }) });
        assert(r.status === 201, 'opening: ' + r.status + ' ' + await r.text());
        return (r.headers.get('set-cookie') || '').split(';')[0];
    }

    await open(ja);
    for (let i = 0; i < N; i += 10) {
        const batch = [];
        for (let k = i; k < i + 10; k++) { batch.push(open(tag + k)); }
        cookies.push(...await Promise.all(batch));
    }

    const ctx = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        httpCredentials: { username: USER, password: PASS } });
    const op = await ctx.newPage();
    watch(op, 'list-console');

    try {
        await check('the console lists the newest page; scrolling loads ' +
                    'the older conversations, none twice', async () => {
            await op.goto(FRONT + '/chatport/agent/');
            const first = await until(async () => {
                const r = await op.evaluate(rows);
                return r.length >= 50 && r;
            }, 10000, 'the first page');
            assert(first.length === 50, 'first page: ' + first.length);
            assert(!first.includes(ja), 'the oldest is on the first page');
            const all = await until(async () => {
                await op.evaluate(() => {
                    const box = document.querySelector('.list');
                    box.scrollTop = box.scrollHeight;
                });
                const r = await op.evaluate(rows);
                return r.includes(ja) && r;
            }, 20000, 'the Japanese conversation after scrolling');
            const ours = all.filter(s => s.startsWith(tag));
            assert(ours.length === N, 'conversations of this run: ' +
                   ours.length);
            assert(new Set(all).size === all.length, 'a row twice');
            return all.length + ' rows after scrolling, from 50';
        });

        await check('a visitor\'s message moves their row to the top, ' +
                    'the other rows are not drawn again', async () => {
            const text = 'Still there? ' + RUN;
            await op.evaluate(() => {
                window.__snips = Array.from(
                    document.querySelectorAll('#convs li .snip'));
            });
            const r = await fetch(FRONT + '/chatport/messages', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json',
                           Cookie: cookies[5] },
                body: JSON.stringify({ text }) });
            assert(r.status === 201, 'message: ' + r.status);
            await until(async () => (await op.evaluate(rows))[0] === text,
                        10000, 'the row at the top');
            const kept = await op.evaluate(t => {
                const now = Array.from(
                    document.querySelectorAll('#convs li .snip'));
                return window.__snips.filter(s => s.textContent !== t)
                    .filter(s => !now.includes(s)).length;
            }, text);
            assert(kept === 0, kept + ' other rows drawn again');
            return 'moved, the other rows\' nodes kept';
        });

        await check('the search box finds a Japanese word (東京 in ' +
                    '東京都の配送について)', async () => {
            await op.evaluate(() => {
                document.querySelector('.list').scrollTop = 0;
            });
            await op.fill('#find', '東京');
            const found = await until(async () => {
                const r = await op.evaluate(rows);
                return r.length >= 1 && !r.some(s => s.startsWith(tag)) && r;
            }, 10000, 'the search');
            assert(found.includes(ja), 'found: ' + JSON.stringify(found));
            await op.fill('#find', '');
            await until(async () =>
                (await op.evaluate(rows)).length >= 50, 10000,
                'the list again');
            return 'found ' + found.length;
        });
    } finally {
        await ctx.close();
    }
};
