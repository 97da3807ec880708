// Headless Chromium for the course's browser scripts, offline: where to find it, how to start
// it, and how to collect a page's errors. Imported by slides/browser.mjs (decks) and
// tests/e2e/journey.mjs (the student's journey through JupyterLab and the MLflow UI).
//
// The Chromium executable is $CHROMIUM, else the first of chromium, chromium-browser,
// google-chrome, google-chrome-stable found on PATH.

import { execFileSync } from "node:child_process";

export function findChromium() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    try {
      return execFileSync("which", [name], { encoding: "utf8" }).trim();
    } catch {
      // not on PATH: try the next name
    }
  }
  throw new Error("Chromium not found: install it (apt-get install chromium) or set CHROMIUM.");
}

// Options for playwright's chromium.launch and launchPersistentContext: headless, no
// background traffic, and every host name except 127.0.0.1 unresolvable.
export function launchOptions(extra = {}) {
  return {
    executablePath: findChromium(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-default-apps",
      "--disable-dev-shm-usage",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
    ...extra,
  };
}

// Call report(kind, text) for each error the page shows: kind "console" for a console error,
// "pageerror" for an uncaught exception in the page.
export function onPageErrors(page, report) {
  page.on("console", (message) => {
    if (message.type() === "error") report("console", message.text());
  });
  page.on("pageerror", (error) => report("pageerror", String(error)));
}
