'use strict';
/* Data requests and the forms' state in real consoles (issue 13, items 2
 * and 5), called by run.js's checks() with its helpers. Two operators'
 * consoles: one marks a contact form done, the other shows it done and
 * one new form less, live. A conversation is deleted through its
 * confirmation dialog (cancelled once first): it leaves both consoles and
 * nothing of it can be exported any more. "Export / erase by email"
 * downloads the address's JSON, then erases it after a confirmation. */

const fs = require('fs');

module.exports = async function (browser, h) {
    const { check, until, assert, agent, watch, shot, FRONT, USER, PASS,
            RUN } = h;
    const email = 'data-' + RUN + '@shop.test';
    const page = FRONT + '/shop.html?data=' + RUN;
    const ctx = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        httpCredentials: { username: USER, password: PASS } });
    const op1 = await ctx.newPage();
    const op2 = await ctx.newPage();
    watch(op1, 'data-console-1');
    watch(op2, 'data-console-2');

    /* what a visitor sends, without a browser of its own */
    async function send(what, body) {
        const r = await fetch(FRONT + '/chatport/' + what, {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body) });
        const text = await r.text();
        assert(r.status === 201, 'POST ' + what + ': ' + r.status + ' ' +
               text);
        return JSON.parse(text);
    }
    const count = async p => {
        const b = p.locator('#fcount');
        return await b.isHidden() ? 0 : +(await b.textContent());
    };
    const formLi = p => p.locator('#forms li', { hasText: email });

    try {
        await check('a form marked done in one console is done in the ' +
                    'other, whose count of new forms follows', async () => {
            const f = await send('form', { email, page,
                                           message: 'Please call me. ' + RUN });
            await op1.goto(FRONT + '/chatport/agent/#forms');
            await op2.goto(FRONT + '/chatport/agent/#forms');
            await formLi(op1).waitFor({ timeout: 8000 });
            await formLi(op2).waitFor({ timeout: 8000 });
            const forms = await agent('GET', 'forms');
            const before = await until(async () => {
                const n = await count(op2);
                return n === forms.j.new && n;
            }, 8000, 'the server\'s count of new forms: ' + forms.j.new);

            const b = formLi(op1).locator('button.fstate');
            assert(await b.getAttribute('aria-pressed') === 'false',
                   'the form is not new');
            await b.click();
            await until(async () => await formLi(op2)
                .locator('button.fstate').getAttribute('aria-pressed') ===
                'true', 8000, 'done in the other console');
            await until(async () => await count(op2) === before - 1, 8000,
                        'one new form less in the other console');
            const st = (await agent('GET', 'forms')).j.forms
                .find(x => x.id === f.id);
            assert(st && st.state === 'done', 'the server has it done');
            await shot(op2, 'data-form-done.png');
            return 'new forms ' + before + ' -> ' + (before - 1);
        });

        await check('a conversation deleted through its confirmation ' +
                    'leaves both consoles and the store', async () => {
            const text = 'Delete my data please. ' + RUN;
            await send('messages', { text, page });
            const c = await until(async () => {
                const r = await agent('GET', 'conversations?limit=100');
                return r.j && r.j.conversations.find(x =>
                    x.first_page === page && x.last &&
                    x.last.text === text);
            }, 5000, 'the conversation');
            await op1.goto(FRONT + '/chatport/agent/#' + c.id);
            await op2.goto(FRONT + '/chatport/agent/');
            const item = p => p.locator('#convs li', { hasText: text });
            await item(op2).waitFor({ timeout: 8000 });
            await op1.locator('#msgs .mt', { hasText: text })
                .waitFor({ timeout: 8000 });

            /* cancelled: nothing happens */
            await op1.locator('#erase').click();
            await op1.locator('#ask').waitFor({ state: 'visible',
                                                timeout: 3000 });
            await shot(op1, 'data-delete-confirm.png');
            await op1.locator('#ano').click();
            await op1.locator('#ask').waitFor({ state: 'hidden',
                                                timeout: 3000 });
            assert((await agent('GET', 'export?conversation=' + c.id))
                   .status === 200, 'cancelled, yet gone');

            await op1.locator('#erase').click();
            await op1.locator('#aok').click();
            await until(async () => await op1.locator('#conv').isHidden(),
                        8000, 'the view closed');
            await item(op2).waitFor({ state: 'detached', timeout: 8000 });
            assert(await item(op1).count() === 0, 'still in the list');
            const r = await agent('GET', 'export?conversation=' + c.id);
            assert(r.status === 404, 'export after: ' + r.status);
            return 'gone from both consoles; export 404';
        });

        await check('"Export / erase by email": the export downloads the ' +
                    'address\'s JSON, the erasure (confirmed) removes it ' +
                    'from both consoles', async () => {
            const gone = 'gone-' + RUN + '@shop.test';
            await send('form', { email: gone, page,
                                 message: 'Forget me. ' + RUN });
            await op1.goto(FRONT + '/chatport/agent/');
            await op2.goto(FRONT + '/chatport/agent/');
            const item = p => p.locator('#convs li', { hasText: gone });
            await item(op2).waitFor({ timeout: 8000 });

            await op1.locator('#data').click();
            await op1.locator('#aemail').fill(gone.toUpperCase());
            const [dl] = await Promise.all([
                op1.waitForEvent('download', { timeout: 8000 }),
                op1.locator('#aexp').click()]);
            const j = JSON.parse(fs.readFileSync(await dl.path(), 'utf8'));
            assert(j.email === gone && j.conversations.length === 1 &&
                   j.forms.length === 1 &&
                   j.forms[0].fields.email === gone,
                   'the export: ' + JSON.stringify(j).slice(0, 300));

            await op1.locator('#data').click();
            await op1.locator('#aemail').fill(gone);
            await op1.locator('#aok').click();
            await until(async () => /Erase every conversation/.test(
                await op1.locator('#askq').textContent()), 3000,
                'the confirmation');
            await op1.locator('#aok').click();
            await item(op2).waitFor({ state: 'detached', timeout: 8000 });
            await until(async () => await item(op1).count() === 0, 8000,
                        'gone from the console that erased it');
            const r = await agent('GET', 'export?email=' +
                                  encodeURIComponent(gone));
            assert(r.status === 404, 'export after: ' + r.status);
            return 'downloaded ' + dl.suggestedFilename() + '; erased';
        });
    } finally {
        await ctx.close();
    }
};
