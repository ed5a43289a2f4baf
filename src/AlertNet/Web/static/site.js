// The only script of the base layout: fetch() that carries the form token, because AlertNet refuses any
// cookie-authenticated POST/PUT/DELETE without it (CSRF). Pages call AlertNet.fetch(url, options).
window.AlertNet = {
    antiforgeryToken() {
        return document.querySelector('meta[name="request-verification-token"]')?.content ?? '';
    },
    fetch(url, options = {}) {
        const headers = new Headers(options.headers || {});
        headers.set('RequestVerificationToken', window.AlertNet.antiforgeryToken());
        return fetch(url, { credentials: 'same-origin', ...options, headers });
    },
};
