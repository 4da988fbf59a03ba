'use strict';
/* Photos in the browser, called by run.js's checks() with its helpers: a
 * visitor on the strict-CSP page attaches a 4000x3000 JPEG (made in the
 * page with a canvas) with the widget's photo button; it is downsized
 * before upload, and the operator's console shows its thumbnail, the full
 * size on click. The operator pastes an image (Ctrl+V) into the reply box;
 * the widget shows its thumbnail. */

/* runs in the widget's shadow root: the photos of the thread, and the
 * photo button */
function widgetPhotos() {
    const box = e => {
        if (!e) { return null; }
        const r = e.getBoundingClientRect();
        return { x: r.x, y: r.y, w: r.width, h: r.height,
                 shown: r.width > 0 && r.height > 0 };
    };
    const log = this.querySelector('.body');
    return {
        atBottom: log.scrollTop + log.clientHeight >= log.scrollHeight - 2,
        button: box(this.querySelector('.foot .pick')),
        label: this.querySelector('.foot .pick').getAttribute('aria-label'),
        photos: Array.from(this.querySelectorAll('.log .pic img'), i => ({
            src: i.src, w: i.naturalWidth, h: i.naturalHeight,
            box: box(i), href: i.parentNode.href, rel: i.parentNode.rel }))
    };
}

/* runs in a page: a w x h JPEG (a gradient with shapes, so it is not
 * trivially small) as base64 */
async function bigJpeg(size) {
    const c = document.createElement('canvas');
    c.width = size[0];
    c.height = size[1];
    const x = c.getContext('2d');
    const g = x.createLinearGradient(0, 0, c.width, c.height);
    g.addColorStop(0, '#2563eb');
    g.addColorStop(1, '#f59e0b');
    x.fillStyle = g;
    x.fillRect(0, 0, c.width, c.height);
    for (let i = 0; i < 400; i++) {
        x.fillStyle = 'hsl(' + (i * 37 % 360) + ',70%,50%)';
        x.beginPath();
        x.arc((i * 997) % c.width, (i * 613) % c.height, 20 + i % 90, 0,
              7);
        x.fill();
    }
    const b = await new Promise(ok => c.toBlob(ok, 'image/jpeg', 0.95));
    const u = new Uint8Array(await b.arrayBuffer());
    let s = '';
    for (let i = 0; i < u.length; i += 8192) {
        s += String.fromCharCode.apply(null, u.subarray(i, i + 8192));
    }
    return btoa(s);
}

module.exports = async function images(browser, h) {
    const { check, assert, until, agent, visitor, shot, conversation,
            FRONT, USER, PASS, RUN } = h;
    const v = await visitor(browser, 'images');
    const page = FRONT + '/csp.html?images=' + RUN;
    let cid, jpeg;

    await check('photos: the visitor attaches a 4000x3000 JPEG; it is ' +
                'downsized, stored under 1 MB, shown as a thumbnail',
                async () => {
        await v.page.goto(page);
        await v.w.launcher();
        await v.w.say('A photo of the teapot I got ' + RUN);
        const c = await until(() => conversation(page), 3000,
                              'the conversation');
        cid = c.id;
        const st = await until(async () => {
            const s = await v.w.inShadow(widgetPhotos);
            return s.button && s.button.shown && s;
        }, 3000, 'the photo button');
        assert(st.label, 'the photo button has no accessible label');
        jpeg = Buffer.from(await v.page.evaluate(bigJpeg, [4000, 3000]),
                           'base64');
        /* headless chromium now and then misses the first file chooser
         * (playwright turns its interception on as the listener comes):
         * a click that opened none is made again */
        const choosers = [];
        v.page.on('filechooser', fc => choosers.push(fc));
        let chooser;
        for (let i = 0; i < 3 && !chooser; i++) {
            const b = (await v.w.inShadow(widgetPhotos)).button;
            await v.page.mouse.click(b.x + b.w / 2, b.y + b.h / 2);
            chooser = await until(() => choosers[0], 2000,
                                  'a file chooser').catch(() => null);
        }
        assert(chooser, 'the photo button opened no file chooser');
        await chooser.setFiles({ name: 'teapot.jpg', mimeType: 'image/jpeg',
                                 buffer: jpeg });
        const p = await until(async () => {
            const s = await v.w.inShadow(widgetPhotos);
            return s.photos.length && s.photos[0].w && s.photos[0];
        }, 10000, 'the thumbnail in the widget');
        assert(p.w === 1600 && p.h === 1200,
               'not downsized to 1600x1200: ' + p.w + 'x' + p.h);
        assert(p.box.w <= 200 && p.box.h <= 200,
               'the thumbnail is not small: ' + JSON.stringify(p.box));
        assert(p.href === p.src && /noopener/.test(p.rel),
               'the full size link: ' + p.href + ' rel ' + p.rel);
        const m = (await agent('GET', 'conversations/' + cid + '/messages'))
            .j.messages.find(x => x.image);
        assert(m && m.image.width === 1600 && m.image.height === 1200,
               'stored message: ' + JSON.stringify(m));
        const r = await fetch(FRONT + m.image.url, { headers: {
            Authorization: 'Basic ' +
                Buffer.from(USER + ':' + PASS).toString('base64') } });
        const bytes = Buffer.from(await r.arrayBuffer());
        assert(r.status === 200 && r.headers.get('content-type') ===
               'image/jpeg', 'GET ' + m.image.url + ': ' + r.status + ' ' +
               r.headers.get('content-type'));
        assert(bytes.length < 1024 * 1024, 'stored ' + bytes.length +
               ' bytes');
        const cspv = await v.page.evaluate(() => window.__cspv);
        assert(!cspv.length, 'CSP violations: ' + JSON.stringify(cspv));
        return 'sent ' + jpeg.length + ' bytes 4000x3000, stored ' +
            bytes.length + ' bytes 1600x1200';
    });
    await v.w.open();
    await shot(v.page, 'photo-widget-visitor.png');

    const opCtx = await browser.newContext({
        viewport: { width: 1280, height: 800 },
        httpCredentials: { username: USER, password: PASS },
        permissions: ['clipboard-read', 'clipboard-write'] });
    const op = await opCtx.newPage();
    h.watch(op, 'console-photos');

    await check('photos: the console shows the thumbnail, the full size ' +
                'on click', async () => {
        assert(cid, 'no conversation');
        await op.goto(FRONT + '/chatport/agent/#' + cid);
        const img = op.locator('#msgs .pic img');
        await until(async () => await img.count() === 1 &&
                    await img.evaluate(i => i.naturalWidth) === 1600,
                    5000, 'the thumbnail in the console');
        const b = await img.boundingBox();
        assert(b.width <= 240 && b.height <= 240,
               'thumbnail ' + JSON.stringify(b));
        await shot(op, 'photo-console-thumbnail.png');
        const [full] = await Promise.all([
            opCtx.waitForEvent('page', { timeout: 5000 }), img.click()]);
        await full.waitForLoadState();
        const opener = await full.evaluate(() => window.opener === null);
        const url = full.url();
        await full.close();
        assert(/\/chatport\/agent\/conversations\/[0-9a-f]{32}\/images\//
               .test(url), 'opened ' + url);
        assert(opener, 'the full-size tab has an opener');
        return 'thumbnail ' + Math.round(b.width) + 'x' +
            Math.round(b.height) + ', full size at ' + url;
    });

    await check('photos: the operator pastes an image (Ctrl+V); the ' +
                'widget shows it', async () => {
        /* a real paste: the image is put on the clipboard, then Ctrl+V in
         * the reply box */
        const before = await op.locator('#msgs .pic img').count();
        await op.evaluate(async () => {
            const c = document.createElement('canvas');
            c.width = 320;
            c.height = 200;
            const x = c.getContext('2d');
            x.fillStyle = '#10b981';
            x.fillRect(0, 0, 320, 200);
            x.fillStyle = '#fff';
            x.fillRect(40, 40, 240, 120);
            const b = await new Promise(ok => c.toBlob(ok, 'image/png'));
            await navigator.clipboard.write([
                new ClipboardItem({ 'image/png': b })]);
        });
        await op.locator('#text').click({ timeout: 3000 });
        await op.keyboard.press('Control+V');
        await until(async () => await op.locator('#msgs .pic img')
                    .count() === before + 1, 5000,
                    'the pasted photo in the console');
        const p = await until(async () => {
            const s = await v.w.inShadow(widgetPhotos);
            return s.photos.find(x => x.w === 320);
        }, 8000, 'the operator\'s photo in the widget');
        assert(p.w === 320 && p.h === 200, 'pasted ' + p.w + 'x' + p.h);
        /* its size is known once it loaded: the thread shows it whole */
        await until(async () => (await v.w.inShadow(widgetPhotos)).atBottom,
                    3000, 'the widget scrolled down to the photo');
        const m = (await agent('GET', 'conversations/' + cid + '/messages'))
            .j.messages.filter(x => x.image).pop();
        assert(m.from === 'agent' && m.agent === USER,
               'stored as ' + JSON.stringify(m));
        await shot(op, 'photo-console-pasted.png');
        await shot(v.page, 'photo-widget-operator.png');
        return 'pasted 320x200, shown in the widget';
    });

    await check('photos: the operator drops an image file on the ' +
                'conversation', async () => {
        const before = await op.locator('#msgs .pic img').count();
        /* playwright drags no files from outside the page: the drop event
         * a browser makes of one, with a GIF file */
        await op.evaluate(() => {
            const gif = Uint8Array.from(atob('R0lGODlhAQABAIAAAP///wAAACH5' +
                'BAEAAAAALAAAAAABAAEAAAICRAEAOw=='), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([gif], 'dot.gif', { type: 'image/gif' }));
            document.getElementById('msgs').dispatchEvent(new DragEvent(
                'drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        });
        await until(async () => await op.locator('#msgs .pic img')
                    .count() === before + 1, 5000,
                    'the dropped photo in the console');
        const m = (await agent('GET', 'conversations/' + cid + '/messages'))
            .j.messages.filter(x => x.image).pop();
        assert(m.image.width === 1 && m.image.height === 1,
               'stored ' + JSON.stringify(m));
    });

    await opCtx.close();
};
