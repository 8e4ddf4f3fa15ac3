/**
 * The Content-Security-Policy header of the served UI. The built index.html carries the same policy
 * as a meta tag (which is what applies under Electron's file://); the header adds what a meta tag
 * cannot express, such as frame-ancestors.
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
