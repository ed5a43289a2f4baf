// The composer's live preview and test send. Texts and groups are sent to POST /api/alerts/preview at most once per
// pause in typing (debounced); the answer gives each text's encoding and segments, the recipients, cost and send time.
(() => {
    const form = document.getElementById('composer');
    if (!form) return;
    const texts = JSON.parse(document.getElementById('composer-texts').textContent);
    const lang = form.dataset.lang || 'en';
    const format = (text, ...values) => values.reduce((t, v, i) => t.replace(`{${i}}`, v), text);
    const number = (value, digits = 0) => value.toLocaleString(lang, { maximumFractionDigits: digits });
    const money = value => value.toLocaleString(lang, { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });
    const duration = seconds => seconds < 1 ? '< 1 s'
        : seconds < 120 ? `${number(seconds)} s`
        : seconds < 7200 ? `${number(seconds / 60, 1)} min` : `${number(seconds / 3600, 1)} h`;
    const preview = document.getElementById('preview');
    const textareas = [...form.querySelectorAll('textarea[data-language]')];

    function composed() {
        const bodies = {};
        for (const area of textareas) {
            if (area.value.trim()) bodies[area.dataset.language] = area.value.trim();
        }
        const groups = [...form.querySelectorAll('input[name="Groups"]:checked')].map(g => g.value);
        // A correction or all-clear goes to the people the chosen alert reached, not to groups.
        const followUp = form.querySelector('input[name="Type"]:checked')?.value.match(/^(correction|all_clear)$/) != null;
        const followUpOf = followUp ? Number(original?.value) || null : null;
        return { bodies, groups, followUp, followUpOf };
    }

    const original = document.getElementById('original');
    const originalChoice = document.getElementById('original-choice');
    const groupsChoice = document.getElementById('groups-choice');
    // Only the composer has the choice of an original (the rights library shares this script).
    function showKind() {
        if (!originalChoice || !groupsChoice) return;
        const { followUp } = composed();
        originalChoice.hidden = !followUp;
        groupsChoice.hidden = followUp;
    }
    form.addEventListener('change', showKind);
    showKind();

    async function problemOf(response) {
        try { return (await response.json()).detail ?? response.statusText; } catch { return response.statusText; }
    }

    let sequence = 0;
    async function refresh() {
        const mine = ++sequence;
        const { bodies, groups, followUp, followUpOf } = composed();
        for (const area of textareas) {
            if (!bodies[area.dataset.language]) document.getElementById('stats-' + area.dataset.language).textContent = '';
        }
        if (Object.keys(bodies).length === 0 || (followUp ? !followUpOf : groups.length === 0)) {
            preview.textContent = texts.empty;
            return;
        }
        const response = await AlertNet.fetch('/api/alerts/preview', {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(followUp ? { bodies, followUpOf } : { bodies, groups }),
        });
        if (mine !== sequence) return; // a newer preview is on its way
        if (!response.ok) {
            preview.textContent = format(texts.previewError, await problemOf(response));
            return;
        }
        const result = await response.json();
        for (const language of result.languages) {
            const stats = document.getElementById('stats-' + language.language);
            const chars = [...(bodies[language.language] ?? '')].length;
            stats.replaceChildren(format(texts.stats, number(chars), language.encoding, number(language.segments)));
            if (language.unicodeCharacters.length > 0) {
                const costly = document.createElement('span');
                costly.className = 'costly';
                costly.textContent = ' · ' + format(texts.unicode, language.unicodeCharacters.join(' '));
                stats.append(costly);
            }
        }
        preview.textContent = format(texts.summary, number(result.recipients), number(result.segments),
            money(result.estimatedCost), duration(result.estimatedSeconds));
    }

    let timer;
    const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 400); };
    form.addEventListener('input', later);
    form.addEventListener('change', later);
    refresh();

    const result = document.getElementById('test-result');
    document.getElementById('test-send').addEventListener('click', async event => {
        const button = event.currentTarget;
        const { bodies } = composed();
        button.disabled = true;
        try {
            const response = await AlertNet.fetch('/api/alerts/test-send', {
                method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ bodies, language: lang }),
            });
            if (response.ok) {
                const sent = await response.json();
                result.textContent = format(texts.testDone, sent.to, sent.language);
            } else {
                result.textContent = format(texts.testFailed, await problemOf(response));
            }
        } finally {
            button.disabled = false;
        }
    });

    // The organizer types local time; the server gets UTC.
    // (The know-your-rights library reuses this script without a schedule field.)
    const sendAt = document.getElementById('send-at');
    if (sendAt) form.addEventListener('submit', () => {
        document.getElementById('send-at-utc').value = sendAt.value ? new Date(sendAt.value).toISOString() : '';
    });
})();
