// The alert page's live dashboard: follows GET /api/alerts/{id}/events (server-sent events) and redraws the
// progress, counts, failure rate, reasons, timings and the throughput chart. No inline script (CSP): the texts and
// the first dashboard come from JSON blocks the page renders.
(() => {
    const root = document.getElementById('live');
    if (!root) return;
    const texts = JSON.parse(document.getElementById('live-texts').textContent);
    const lang = root.dataset.lang || 'en';
    const number = (value, digits = 1) => value.toLocaleString(lang, { maximumFractionDigits: digits });
    const format = (text, ...values) => values.reduce((t, v, i) => t.replace(`{${i}}`, v), text);
    const byId = id => document.getElementById(id);

    function drawChart(throughput) {
        const svg = byId('chart');
        const points = throughput.delivered;
        while (svg.firstChild) svg.removeChild(svg.firstChild);
        byId('chart-heading').textContent = format(texts.chart, throughput.bucketSeconds);
        const max = Math.max(1, ...points);
        const total = points.reduce((a, b) => a + b, 0);
        svg.setAttribute('aria-label', format(texts.chartLabel, number(total, 0), number(max, 0), throughput.bucketSeconds));
        // At least a dozen slots, so that a short alert's one or two bars do not fill the whole chart.
        const width = 300 / Math.max(points.length, 12);
        points.forEach((value, i) => {
            const height = Math.max(value > 0 ? 1 : 0, (value / max) * 76);
            const bar = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
            bar.setAttribute('x', String(i * width + width * 0.1));
            bar.setAttribute('y', String(80 - height));
            bar.setAttribute('width', String(width * 0.8));
            bar.setAttribute('height', String(height));
            bar.setAttribute('class', 'bar');
            svg.appendChild(bar);
        });
    }

    function render(d) {
        byId('progress').value = d.progressPercent;
        byId('progress-text').textContent = format(texts.percent, number(d.progressPercent));
        byId('recipients-text').textContent = format(texts.recipients, number(d.recipients, 0));
        for (const count of d.counts) {
            const cell = root.querySelector(`[data-count="${count.key}"]`);
            if (cell) cell.textContent = number(count.count, 0);
        }
        byId('failure-text').textContent = format(texts.failure, number(d.failurePercent));
        byId('failure').classList.toggle('warning', d.failureWarning);
        byId('failure-warning').hidden = !d.failureWarning;
        const reasons = byId('reasons');
        reasons.replaceChildren(...(d.reasons.length === 0
            ? [Object.assign(document.createElement('li'), { className: 'hint', textContent: texts.reasonsNone })]
            : d.reasons.map(r => {
                const li = document.createElement('li');
                const strong = document.createElement('strong');
                strong.textContent = number(r.count, 0);
                const codes = document.createElement('span');
                codes.className = 'hint';
                codes.textContent = ` (${format(texts.codes, r.codes.map(c => c.code ?? '?').join(', '))})`;
                li.append(strong, ` · ${texts['reason.' + r.key] ?? r.label}`, codes);
                return li;
            })));
        byId('p50').textContent = d.p50Seconds == null ? texts.none : format(texts.seconds, number(d.p50Seconds));
        byId('p95').textContent = d.p95Seconds == null ? texts.none : format(texts.seconds, number(d.p95Seconds));
        const state = byId('alert-state');
        if (state && texts['state.' + d.state]) {
            state.className = `badge state-${d.state}`;
            state.textContent = state.textContent.replace(/:.*$/, ': ' + texts['state.' + d.state]);
        }
        // Approving or cancelling no longer applies once the alert has moved on (the server renders them for the state it saw).
        const approval = byId('approval-card');
        if (approval) approval.hidden = d.state !== 'awaiting_approval';
        const cancel = byId('cancel-card');
        if (cancel) cancel.hidden = ['done', 'cancelled', 'rejected'].includes(d.state);
        drawChart(d.throughput);
        root.dataset.progress = String(d.progressPercent);
    }

    render(JSON.parse(document.getElementById('live-initial').textContent));
    if (root.dataset.settled === 'true' || !window.EventSource) return;

    const status = byId('live-status');
    const events = new EventSource(root.dataset.events);
    events.addEventListener('dashboard', e => {
        status.textContent = texts.live;
        render(JSON.parse(e.data));
    });
    events.addEventListener('settled', () => {
        events.close();
        status.textContent = texts.settled;
        root.dataset.settled = 'true';
    });
    events.onerror = () => {
        if (root.dataset.settled !== 'true') status.textContent = texts.reconnecting;
    };
})();
