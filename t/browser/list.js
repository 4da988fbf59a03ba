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

/* runs in the console: each row's conversation, text node and time */
function saveRows() {
    window.__rows = Array.from(document.querySelectorAll('#convs li'))
        .map(li => ({ id: li.getAttribute('data-id'),
                      snip: li.querySelector('.snip'),
                      ago: li.querySelector('.ago').textContent }));
}

/* runs in the console: the rows drawn again since saveRows() though
   their time reads the same ("now", "1 min. ago") and their message did
   not change */
function redrawnRows() {
    const was = {};
    window.__rows.forEach(r => { was[r.id] = r; });
    return Array.from(document.querySelectorAll('#convs li')).filter(li => {
        const r = was[li.getAttribute('data-id')];
        const snip = li.querySelector('.snip');
        return r && snip !== r.snip && snip.textContent === r.snip.textContent
            && li.querySelector('.ago').textContent === r.ago;
    }).length;
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
            let ours = [];
            const all = await until(async () => {
                await op.evaluate(() => {
                    const box = document.querySelector('.list');
                    box.scrollTop = box.scrollHeight;
                });
                const r = await op.evaluate(rows);
                ours = r.filter(s => s.startsWith(tag));
                return ours.length === N && r.includes(ja) && r;
            }, 20000, 'all of this run\'s conversations after scrolling');
            assert(new Set(all).size === all.length, 'a row twice');
            return all.length + ' rows after scrolling, from 50';
        });

        await check('a visitor\'s message moves their row to the top, ' +
                    'the other rows are not drawn again', async () => {
            const text = 'Still there? ' + RUN;
            await op.evaluate(saveRows);
            const r = await fetch(FRONT + '/chatport/messages', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json',
                           Cookie: cookies[5] },
                body: JSON.stringify({ text }) });
            assert(r.status === 201, 'message: ' + r.status);
            await until(async () => (await op.evaluate(rows))[0] === text,
                        10000, 'the row at the top');
            const redrawn = await op.evaluate(redrawnRows);
            assert(redrawn === 0, redrawn + ' unchanged rows drawn again');
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
