'use strict';
/* A cursor the store lost (issue 15: a failover drops a message the old
 * master published but never passed on): the widget's poll holds the id
 * of a reply Redis no longer has, and the store answers "400
 * invalid_cursor". The widget must read the history again at once, not
 * retry the lost cursor with a growing delay, and go on receiving
 * replies. Called by run.js's checks() with its helpers. */

const { execFileSync } = require('child_process');

module.exports = async function (browser, h) {
    const { check, until, assert, agent, visitor, watch, sleep, FRONT,
            RUN } = h;
    const page = FRONT + '/shop.html?cursor=' + RUN;
    const redis = (...a) => execFileSync('redis-cli',
        ['-p', process.env.TEST_NGINX_REDIS_PORT, ...a]).toString().trim();

    await check('a poll cursor the store lost (failover) is answered 400 ' +
                'once, the widget reads the history again and gets the ' +
                'next reply', async () => {
        const v = await visitor(browser, 'cursor-visitor');
        const polls = [];
        v.page.on('response', r => {
            if (r.url().includes('/chatport/poll?')) {
                polls.push({ status: r.status(), url: r.url() });
            }
        });
        try {
            await v.page.goto(page);
            await v.w.say('Is the blue one in stock? ' + RUN);
            const c = await until(async () => {
                const r = await agent('GET', 'conversations?limit=100');
                return r.j && r.j.conversations.find(x =>
                    x.first_page === page);
            }, 5000, 'the conversation');
            const lost = 'Yes, three left. ' + RUN;
            const r1 = await agent('POST', 'conversations/' + c.id +
                                   '/messages', { text: lost });
            assert(r1.status === 201, 'reply: ' + r1.status);
            await v.w.sees(lost, 5000);

            /* the store loses that reply: the stream and the
             * conversation's last id go back to the visitor's message */
            const key = 'chatport:{t060-' + RUN + '}:conv:' + c.id;
            const ids = redis('XREVRANGE', key + ':msgs', '+', '-',
                              'COUNT', '2').split('\n')
                .filter(l => /^\d+-\d+$/.test(l));
            assert(ids[0] === r1.j.id, 'the reply is last: ' + ids);
            redis('XDEL', key + ':msgs', ids[0]);
            redis('HSET', key, 'last', ids[1]);
            const before = polls.length;

            /* an operator typing wakes the parked poll; its next poll
             * asks after the lost id */
            await agent('POST', 'conversations/' + c.id + '/typing', {});
            await until(async () => polls.slice(before)
                .some(p => p.status === 400), 8000, 'a 400 poll');
            /* a retry of the lost cursor would come within 1 s, 2 s... */
            await sleep(4000);
            const bad = polls.slice(before).filter(p => p.status === 400);
            assert(bad.length === 1, bad.length + ' polls answered 400: ' +
                   JSON.stringify(polls.slice(before)));

            const next = 'I can hold one for you. ' + RUN;
            const r2 = await agent('POST', 'conversations/' + c.id +
                                   '/messages', { text: next });
            assert(r2.status === 201, 'second reply: ' + r2.status);
            await v.w.sees(next, 5000);
        } finally {
            await v.ctx.close();
        }
    });
};
