// Drill phone simulator: texts typed here go to AlertNet through the signed inbound webhook (POST
// /api/drill/phone/text); the messages the drill carrier accepted for the number are polled every 1.5 s.
(() => {
    const thread = document.getElementById('thread');
    if (!thread) return;
    const texts = JSON.parse(document.getElementById('phone-texts').textContent);
    const numberInput = document.getElementById('number');
    const status = document.getElementById('phone-status');
    const format = (text, ...values) => values.reduce((t, v, i) => t.replace(`{${i}}`, v), text);
    let number = numberInput.value.trim();
    let local = [];      // typed texts and AlertNet's replies, for this number, since the page opened
    let received = [];   // what the carrier holds for this number
    const post = (url, body) => AlertNet.fetch(url, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    async function problemOf(response) {
        try { return (await response.json()).detail ?? response.statusText; } catch { return response.statusText; }
    }

    function render() {
        const lines = [...local, ...received].sort((a, b) => new Date(a.at) - new Date(b.at));
        const items = lines.map(line => {
            const item = document.createElement('li');
            item.className = line.kind;
            const meta = document.createElement('span');
            meta.className = 'meta';
            const time = new Date(line.at).toLocaleTimeString();
            meta.textContent = format(texts[line.kind], time, line.status ?? '');
            item.append(meta, document.createTextNode(line.text));
            return item;
        });
        if (items.length === 0) {
            const empty = document.createElement('li');
            empty.className = 'empty';
            empty.textContent = texts.empty;
            items.push(empty);
        }
        thread.replaceChildren(...items);
    }

    let polling = false;
    async function poll() {
        if (polling || !number || document.hidden) return;
        polling = true;
        try {
            const asked = number;
            const response = await post('/api/drill/phone/messages', { number: asked });
            if (asked !== number) return;
            if (!response.ok) {
                status.textContent = format(texts.failed, await problemOf(response));
                return;
            }
            const next = (await response.json()).lines;
            if (JSON.stringify(next) !== JSON.stringify(received)) {
                received = next;
                render();
            }
        } finally {
            polling = false;
        }
    }

    document.getElementById('phone-number').addEventListener('submit', event => {
        event.preventDefault();
        number = numberInput.value.trim();
        local = [];
        received = [];
        status.textContent = format(texts.watching, number);
        render();
        poll();
    });

    document.getElementById('phone-text').addEventListener('submit', async event => {
        event.preventDefault();
        const body = document.getElementById('body');
        const button = document.getElementById('send-text');
        if (!body.value.trim()) return;
        button.disabled = true;
        try {
            const response = await post('/api/drill/phone/text', { number, body: body.value });
            if (!response.ok) {
                status.textContent = format(texts.failed, await problemOf(response));
                return;
            }
            local.push(...(await response.json()).lines);
            body.value = '';
            render();
            poll();
        } finally {
            button.disabled = false;
        }
    });

    status.textContent = format(texts.watching, number);
    render();
    poll();
    setInterval(poll, 1500);
})();
