// The dashboard's icon: inline in the page (a data: URL, which the page's CSP allows as an image), and served at
// /favicon.ico for the browsers and tools that ask for it there anyway, so neither shows a 404.
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
  '<rect width="16" height="16" rx="3" fill="#111827"/>' +
  '<path d="M3 11.5l3.5-3.5 2.5 2.5 4-5" fill="none" stroke="#86efac" stroke-width="2" ' +
  'stroke-linecap="round" stroke-linejoin="round"/></svg>';

export const FAVICON_DATA_URL = `data:image/svg+xml,${encodeURIComponent(FAVICON_SVG)}`;
