// Drive headless Chromium over built decks, with every host name unresolvable (offline).
//
//   node slides/browser.mjs pdf   DECK.slides.html OUT.pdf
//   node slides/browser.mjs check DECK.slides.html [SCREENSHOT_DIR]
//   node slides/browser.mjs check-all DECK.slides.html...
//   node slides/browser.mjs pdf-all DECK.slides.html OUT.pdf [DECK.slides.html OUT.pdf ...]
//
// `pdf` opens the deck with ?print-pdf, waits until reveal.js has laid out one page per slide,
// and prints it at the slide's own page size. `check` opens every slide by its URL hash and
// prints a JSON report: for each slide its text, images, and whether anything overflows the
// slide; for the page, every request it made, failed requests, console errors and whether the
// reveal.js styles and theme fonts are in use. `check-all` and `pdf-all` do that for several
// decks in one browser (one start instead of one per deck). Used by slides/build.py and tests/test_slides.py.
// Chromium is found and started by slides/chromium.mjs.

import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

import { launchOptions, onPageErrors } from "./chromium.mjs";

const SLIDE_WIDTH = 1280;
const SLIDE_HEIGHT = 720;
const TIMEOUT_MS = 60000;

async function openBrowser() {
  return chromium.launch(launchOptions());
}

// Record every request; anything that is not file: or data: is also aborted.
async function watch(page) {
  const log = { requests: [], failed: [], consoleErrors: [], pageErrors: [] };
  page.on("request", (request) => log.requests.push(request.url()));
  page.on("requestfailed", (request) => log.failed.push(request.url()));
  onPageErrors(page, (kind, text) =>
    (kind === "console" ? log.consoleErrors : log.pageErrors).push(text),
  );
  await page.route(/^(https?|wss?|ftp):/, (route) => route.abort("internetdisconnected"));
  return log;
}

// reveal.js has laid out the slides, and MathJax (if the page uses it) has typeset them.
async function waitForReveal(page) {
  await page.waitForSelector(".reveal.ready", { timeout: TIMEOUT_MS });
  await waitForMath(page);
}

// MathJax typesets again on every slide change: wait until its queue is empty and every
// formula of the slide that is showing has been drawn (a formula that never appears is reported
// by measureSlide, not thrown here).
async function waitForMath(page) {
  try {
    await page.waitForFunction(
      () => {
        if (!window.MathJax) return true;
        if (!MathJax.isReady || MathJax.Hub.queue.pending > 0 || MathJax.Hub.queue.running) {
          return false;
        }
        const section = document.querySelector(".reveal .slides section.present:not(.stack)");
        if (!section) return true;
        const formulas = section.querySelectorAll('script[type^="math/tex"]').length;
        const drawn = [...section.querySelectorAll(".MathJax_CHTML")].filter(
          (m) => m.getBoundingClientRect().width > 0,
        ).length;
        return drawn >= formulas;
      },
      null,
      { timeout: 15000 },
    );
  } catch {
    // measured and reported per slide
  }
}

// One deck's PDF; `browser` is shared by `pdf-all` (each deck in a context of its own).
async function printPdf(html, out, browser = null) {
  const own = browser === null;
  if (own) browser = await openBrowser();
  const context = await browser.newContext({ viewport: { width: SLIDE_WIDTH, height: SLIDE_HEIGHT } });
  try {
    const page = await context.newPage();
    const log = await watch(page);
    await page.goto(pathToFileURL(resolve(html)).href + "?print-pdf", { timeout: TIMEOUT_MS });
    await waitForReveal(page);
    await page.waitForFunction(
      () => document.querySelectorAll(".pdf-page").length > 0,
      null,
      { timeout: TIMEOUT_MS },
    );
    await page.evaluate(() => document.fonts.ready);
    await page.pdf({ path: out, preferCSSPageSize: true, printBackground: true });
    const pages = await page.evaluate(() => document.querySelectorAll(".pdf-page").length);
    return { pdf: out, layoutPages: pages, ...log };
  } finally {
    await context.close();
    if (own) await browser.close();
  }
}

// Several decks in one browser: `pairs` is [html, out, html, out, ...]; a report per deck.
async function printAll(pairs) {
  const browser = await openBrowser();
  try {
    const reports = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      reports[pairs[i]] = await printPdf(pairs[i], pairs[i + 1], browser);
    }
    return reports;
  } finally {
    await browser.close();
  }
}

// Runs in the page: measure the slide that is showing.
function measureSlide([width, height]) {
  const section = document.querySelector(".reveal .slides section.present:not(.stack)");
  if (!section) return { error: "no slide is showing" };
  const notes = [...section.querySelectorAll("aside.notes")];
  const hiddenNotes = notes.every((n) => getComputedStyle(n).display === "none");
  const clone = section.cloneNode(true);
  clone.querySelectorAll("aside.notes, script, style, .MJX_Assistive_MathML").forEach((n) => n.remove());
  const text = clone.textContent.replace(/\s+/g, " ").trim();
  const images = [...section.querySelectorAll("img")];
  const rendered = images.filter((img) => img.complete && img.naturalWidth > 0);
  const box = section.getBoundingClientRect();
  const scale = box.width / section.offsetWidth || 1;
  // Elements whose box ends outside the slide, and scroll boxes that hide part of their content.
  const outside = [];
  for (const element of section.querySelectorAll("h1,h2,h3,p,li,img,pre,table,blockquote")) {
    if (element.closest("aside.notes")) continue;
    const r = element.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const right = (r.right - box.left) / scale;
    const bottom = (r.bottom - box.top) / scale;
    if (right > width + 1 || bottom > height + 1) {
      outside.push(`${element.tagName.toLowerCase()} "${element.textContent.trim().slice(0, 40)}"`);
    }
  }
  const clipped = [];
  for (const element of section.querySelectorAll("pre, .jp-OutputArea-output, .jp-RenderedHTMLCommon")) {
    if (element.scrollWidth > element.clientWidth + 1) {
      clipped.push(`${element.className || element.tagName} "${element.textContent.trim().slice(0, 40)}"`);
    }
  }
  const sectionStyle = getComputedStyle(section);
  const revealStyle = getComputedStyle(document.querySelector(".reveal"));
  return {
    title: (section.querySelector("h1,h2")?.textContent || "").replace(/¶$/, "").trim(),
    textLength: text.length,
    text: text.slice(0, 200),
    math: section.querySelectorAll('script[type^="math/tex"]').length,
    mathShown: [...section.querySelectorAll(".MathJax_CHTML")].filter(
      (m) => m.getBoundingClientRect().width > 0,
    ).length,
    rawTex: /\$[^$]+\$|\\frac|\\text\{/.test(text),
    images: images.length,
    renderedImages: rendered.length,
    notes: notes.length,
    notesHidden: hiddenNotes,
    visible: sectionStyle.display !== "none" && sectionStyle.visibility !== "hidden" && box.height > 0,
    positioned: sectionStyle.position === "absolute",
    fontFamily: revealStyle.fontFamily,
    scrollHeight: section.scrollHeight,
    scrollWidth: section.scrollWidth,
    outside,
    clipped,
  };
}

// One deck's report; `browser` is shared by `check-all` (each deck in a context of its own).
async function check(html, shotDir, browser = null) {
  const own = browser === null;
  if (own) browser = await openBrowser();
  const context = await browser.newContext({ viewport: { width: SLIDE_WIDTH, height: SLIDE_HEIGHT } });
  try {
    const page = await context.newPage();
    const log = await watch(page);
    const url = pathToFileURL(resolve(html)).href;
    await page.goto(url, { timeout: TIMEOUT_MS });
    await waitForReveal(page);
    await page.evaluate(() => document.fonts.ready);
    const themeFont = await page.evaluate(() => document.fonts.check('30px "Source Sans Pro"'));
    const layout = await page.evaluate(() =>
      [...document.querySelectorAll(".reveal .slides > section")].map(
        (s) => s.querySelectorAll(":scope > section").length || 1,
      ),
    );
    if (shotDir) mkdirSync(shotDir, { recursive: true });
    const slides = [];
    for (let h = 0; h < layout.length; h++) {
      for (let v = 0; v < layout[h]; v++) {
        await page.evaluate(([h, v]) => {
          window.location.hash = `#/${h}/${v}`;
        }, [h, v]);
        await page.waitForFunction(
          ([h, v]) => {
            const top = document.querySelectorAll(".reveal .slides > section")[h];
            if (!top || !top.classList.contains("present")) return false;
            const subs = top.querySelectorAll(":scope > section");
            return subs.length === 0 || subs[v].classList.contains("present");
          },
          [h, v],
          { timeout: 10000 },
        );
        await waitForMath(page);
        await page.waitForTimeout(30);
        const measured = await page.evaluate(measureSlide, [SLIDE_WIDTH, SLIDE_HEIGHT]);
        const entry = { hash: `#/${h}/${v}`, ...measured };
        if (shotDir) {
          const file = join(shotDir, `slide-${String(slides.length + 1).padStart(2, "0")}.png`);
          await page.screenshot({ path: file });
          entry.screenshot = file;
        }
        slides.push(entry);
      }
    }
    return { html, slides, themeFont, ...log };
  } finally {
    await context.close();
    if (own) await browser.close();
  }
}

// Every deck in one browser: a report per deck, by its path as given.
async function checkAll(decks) {
  const browser = await openBrowser();
  try {
    const reports = {};
    for (const html of decks) reports[html] = await check(html, null, browser);
    return reports;
  } finally {
    await browser.close();
  }
}

async function main() {
  const [command, html, extra] = process.argv.slice(2);
  const decks = process.argv.slice(3);
  const pairs = command === "pdf-all" && decks.length % 2 === 0;
  const given = { "check-all": decks, "pdf-all": decks.filter((_, i) => i % 2 === 0) }[command] || [html];
  const known = ["pdf", "check", "check-all"].includes(command) || pairs;
  if (!known || !html || !given.every(existsSync)) {
    console.error("usage: node slides/browser.mjs pdf DECK.slides.html OUT.pdf");
    console.error("       node slides/browser.mjs check DECK.slides.html [SCREENSHOT_DIR]");
    console.error("       node slides/browser.mjs check-all DECK.slides.html...");
    console.error("       node slides/browser.mjs pdf-all DECK.slides.html OUT.pdf ...");
    process.exit(2);
  }
  let result;
  if (command === "pdf") result = await printPdf(html, extra);
  else if (command === "check") result = await check(html, extra);
  else if (command === "pdf-all") result = await printAll(decks);
  else result = await checkAll(decks);
  process.stdout.write(JSON.stringify(result, null, 1) + "\n");
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
