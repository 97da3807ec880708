// The student's journey in headless Chromium: JupyterLab -> run every notebook -> the MLflow UI.
//
//   node tests/e2e/journey.mjs CONFIG.json REPORT.json
//
// CONFIG.json (written by tests/test_e2e.py) holds what `make lab` wrote to lab.json (the
// JupyterLab and MLflow UI addresses and the token), the notebooks to run, the MLflow runs to
// find, a folder for screenshots, a fresh browser profile folder and the time limits.
//
// For each notebook, the script opens it as a student does (the first through the address
// `make lab` prints, the next ones by double-clicking them in JupyterLab's file browser), waits
// until its kernel is idle, runs it with the menu Run > Run All Cells, waits until every cell
// has run (or one failed), and describes every cell and output it can see: prompts, output
// types, text, images and widgets, each scrolled into view first. Then it opens the MLflow UI,
// goes to each run through the experiment list and reads the run's metrics from its page, and
// opens the run links the notebooks printed. It writes REPORT.json and screenshots; the Python
// test decides what passes. Every host name except 127.0.0.1 is unresolvable and every request
// to another host is aborted and recorded: the course must work offline.
//
// playwright-core comes from slides/node_modules (installed from slides/package-lock.json);
// Chromium is found and started by slides/chromium.mjs, as for the decks.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { launchOptions, onPageErrors } from "../../slides/chromium.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const SLIDES = resolve(HERE, "..", "..", "slides");
const { chromium } = createRequire(join(SLIDES, "package.json"))("playwright-core");

const WIDTH = 1280;
const HEIGHT = 800;

const isLoopback = (url) => /^(https?|wss?):\/\/127\.0\.0\.1(:\d+)?(\/|$)/.test(url);
const isLocalScheme = (url) => /^(data|blob|about):/.test(url);

class Journey {
  constructor(config) {
    this.config = config;
    this.shots = config.screenshots;
    this.shotCount = 0;
    this.report = {
      browserVersion: null,
      notebooks: [],
      runs: [],
      links: [],
      outsideRequests: [],
      consoleErrors: [],
      failedResponses: [],
      pageErrors: [],
      screenshots: [],
      readme: {},
      error: null,
    };
  }

  async start() {
    this.context = await chromium.launchPersistentContext(
      this.config.profile,
      launchOptions({ viewport: { width: WIDTH, height: HEIGHT } }),
    );
    this.report.browserVersion = this.context.browser()?.version() ?? null;
    this.context.setDefaultTimeout(this.config.timeouts.step);
    await this.context.route(
      (url) => !isLoopback(url.href) && !isLocalScheme(url.href),
      (route) => {
        this.report.outsideRequests.push(route.request().url());
        return route.abort("internetdisconnected");
      },
    );
    this.context.on("page", (page) => this.watch(page));
    for (const page of this.context.pages()) this.watch(page);
  }

  watch(page) {
    page.on("websocket", (ws) => {
      if (!isLoopback(ws.url())) this.report.outsideRequests.push(ws.url());
    });
    onPageErrors(page, (kind, text) => {
      const [list, limit] =
        kind === "console" ? [this.report.consoleErrors, 500] : [this.report.pageErrors, 1000];
      list.push({ page: page.url(), text: text.slice(0, limit) });
    });
    page.on("response", (response) => {
      if (response.status() >= 400) {
        this.report.failedResponses.push(`${response.status()} ${response.url().split("?")[0]}`);
      }
    });
  }

  async shot(page, name, options = {}) {
    this.shotCount += 1;
    const file = join(this.shots, `${String(this.shotCount).padStart(2, "0")}-${name}.png`);
    try {
      if (options.element) await options.element.screenshot({ path: file });
      else await page.screenshot({ path: file });
      this.report.screenshots.push(file);
    } catch (error) {
      this.report.screenshots.push(`${file} (failed: ${String(error).split("\n")[0]})`);
    }
    return file;
  }

  async stop() {
    if (this.context) await this.context.close();
  }

  // ------------------------------------------------------------------------ JupyterLab

  // The notebook panel of the tab that is showing.
  activePanel(page) {
    return page.locator("#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)");
  }

  // JupyterLab asks once whether to fetch its news; a student answers "No".
  async dismissNewsToast(page, entry) {
    const toast = page.locator(".Toastify__toast", { hasText: "Jupyter news" });
    if ((await toast.count()) === 0) return;
    entry.newsToast = true;
    try {
      await toast.getByRole("button", { name: "No", exact: true }).click({ timeout: 5000 });
    } catch {
      // the toast closed by itself
    }
  }

  // The session JupyterLab's REST API reports for `path`, or null.
  async session(page, path) {
    const { jupyterlab_base: base, token } = this.config;
    const response = await page.request.get(`${base}/api/sessions?token=${token}`);
    if (!response.ok()) return null;
    const sessions = await response.json();
    return sessions.find((s) => s.path === path || s.notebook?.path === path) ?? null;
  }

  // Wait until the notebook's kernel has started and is idle, in the API and in the toolbar.
  async waitForKernel(page, path, entry) {
    const deadline = Date.now() + this.config.timeouts.kernel;
    const indicator = this.activePanel(page).locator(".jp-Notebook-ExecutionIndicator");
    let dialogSince = null;
    while (Date.now() < deadline) {
      // A dialog (e.g. "Select Kernel") blocks a student: record it; if it stays, stop here.
      const dialog = page.locator(".jp-Dialog");
      if ((await dialog.count()) > 0) {
        const text = (await dialog.first().innerText()).replace(/\s+/g, " ").trim();
        if (!entry.dialogs.includes(text)) entry.dialogs.push(text);
        dialogSince ??= Date.now();
        if (Date.now() - dialogSince > 20000) {
          throw new Error(`${path}: a dialog stays open and blocks the notebook: ${text}`);
        }
      } else {
        dialogSince = null;
      }
      const session = await this.session(page, path);
      const status = await indicator.getAttribute("data-status", { timeout: 1000 }).catch(() => null);
      if (session?.kernel?.execution_state === "idle" && status === "idle") {
        entry.kernel = { name: session.kernel.name, id: session.kernel.id };
        return;
      }
      await page.waitForTimeout(250);
    }
    throw new Error(
      `${path}: the kernel was not idle within ${this.config.timeouts.kernel / 1000} s` +
        (entry.dialogs.length ? `; a dialog was open: ${entry.dialogs.join(" | ")}` : ""),
    );
  }

  // Open a notebook: the first through the address `make lab` printed, the next ones from the
  // file browser (the folder of the notebook that is open), as a student does.
  async openNotebook(page, path, first) {
    const name = path.split("/").pop();
    if (first) {
      await page.goto(this.config.jupyterlab, { timeout: this.config.timeouts.kernel });
    } else {
      const item = page.locator(".jp-DirListing-item", {
        has: page.locator(".jp-DirListing-itemText", { hasText: new RegExp(`^${escapeRegExp(name)}$`) }),
      });
      if ((await item.count()) === 0) {
        throw new Error(
          `${path} is not in the file browser's folder; keep the journey's notebooks in the ` +
            "folder of the first one (notebooks/).",
        );
      }
      await item.first().dblclick();
    }
    await page.waitForFunction(
      (title) => {
        const tab = document.querySelector("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current");
        return tab && tab.textContent.includes(title);
      },
      name,
      { timeout: this.config.timeouts.kernel },
    );
    await this.activePanel(page).waitFor({ state: "visible" });
  }

  async runAllCells(page) {
    await page.getByRole("menuitem", { name: "Run", exact: true }).click();
    await page.getByRole("menuitem", { name: /^Run All Cells/ }).click();
  }

  // Wait until the run is over: the toolbar says idle, no prompt says [*], and either every
  // visible prompt has a number or a cell failed (a failed cell stops the rest).
  async waitForRun(page, path) {
    const handle = await this.activePanel(page).elementHandle();
    try {
      await page.waitForFunction(
        (panel) => {
          const status = panel
            .querySelector(".jp-Notebook-ExecutionIndicator")
            ?.getAttribute("data-status");
          const prompts = [...panel.querySelectorAll(".jp-CodeCell .jp-InputPrompt")]
            .map((p) => p.textContent.trim())
            .filter((p) => p !== "");
          if (status !== "idle" || prompts.some((p) => p.includes("*"))) return false;
          const failed = [
            ...panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'),
          ].some((o) => /Traceback \(most recent call last\)|^\w*(Error|Exception)\b/m.test(o.textContent));
          return failed || prompts.every((p) => /^\[\d+\]:$/.test(p));
        },
        handle,
        { timeout: this.config.timeouts.run, polling: 500 },
      );
    } catch (error) {
      throw new Error(
        `${path}: the cells had not all run after ${this.config.timeouts.run / 1000} s ` +
          `(${String(error).split("\n")[0]})`,
      );
    }
  }

  // Describe every cell and output, each scrolled into view first (JupyterLab skips rendering
  // cells outside the view, so that only what a student could scroll to is measured).
  async describeCells(page) {
    const panel = this.activePanel(page);
    const cells = await panel.locator(".jp-Notebook .jp-Cell").elementHandles();
    const described = [];
    for (const [index, cell] of cells.entries()) {
      const entry = await cell.evaluate((c, i) => ({
        index: i,
        type: c.classList.contains("jp-CodeCell")
          ? "code"
          : c.classList.contains("jp-MarkdownCell")
            ? "markdown"
            : "raw",
        inputHidden: c.querySelector(".jp-InputPlaceholder") !== null,
        prompt: c.querySelector(".jp-InputPrompt")?.textContent.trim() ?? "",
        outputs: [],
      }), index);
      // The cell's own outputs (not those nested in an Output widget: they are part of it).
      const outputs = await cell.$$(
        ":scope > .jp-Cell-outputWrapper > .jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output",
      );
      for (const output of outputs) {
        await output.scrollIntoViewIfNeeded().catch(() => {});
        entry.outputs.push(await output.evaluate(describeOutput));
      }
      described.push(entry);
    }
    return described;
  }

  async notebook(page, path, first) {
    const entry = {
      path,
      dialogs: [],
      newsToast: false,
      openedAt: null,
      usableAt: null,
      ranAt: null,
      cells: [],
      links: [],
      error: null,
    };
    this.report.notebooks.push(entry);
    const stem = path.split("/").pop().replace(/\.ipynb$/, "");
    try {
      entry.openedAt = Date.now();
      await this.openNotebook(page, path, first);
      await this.waitForKernel(page, path, entry);
      // Usable: the notebook is on screen and its kernel is idle.
      entry.usableAt = Date.now();
      await this.dismissNewsToast(page, entry);
      await this.shot(page, `${stem}-opened`);
      const started = Date.now();
      await this.runAllCells(page);
      await this.waitForRun(page, path);
      entry.ranAt = Date.now();
      entry.runSeconds = (entry.ranAt - started) / 1000;
      await this.dismissNewsToast(page, entry);
      await this.shot(page, `${stem}-ran`);
      entry.cells = await this.describeCells(page);
      entry.links = entry.cells.flatMap((c) => c.outputs.flatMap((o) => o.links));
      // One screenshot of each cell with an image, a widget or text on stderr.
      const cells = await this.activePanel(page).locator(".jp-Notebook .jp-Cell").elementHandles();
      for (const cell of entry.cells) {
        const kinds = new Set(cell.outputs.map((o) => o.kind));
        if (["image", "widget", "stderr"].some((k) => kinds.has(k))) {
          await cells[cell.index].scrollIntoViewIfNeeded().catch(() => {});
          await this.shot(page, `${stem}-cell${cell.index}`, { element: cells[cell.index] });
        }
      }
      if (first) await this.readmeShotOfNotebook(page, entry);
    } catch (error) {
      entry.error = String(error && error.stack ? error.stack : error);
      await this.shot(page, `${stem}-FAILED`);
    }
    return entry;
  }

  // The README's picture of JupyterLab: notebook 00 after running, scrolled to its widget.
  async readmeShotOfNotebook(page, entry) {
    const cells = await this.activePanel(page).locator(".jp-Notebook .jp-Cell").elementHandles();
    const target = entry.cells.find((c) => c.outputs.some((o) => o.kind === "widget"));
    if (!target) return;
    // Show the section's heading above the widget: scroll to the markdown cell before it.
    const heading = [...entry.cells].reverse().find((c) => c.index < target.index && c.type === "markdown");
    const anchor = cells[(heading ?? target).index];
    await anchor.evaluate((el) => el.scrollIntoView({ block: "start" }));
    await page.waitForTimeout(300); // let the scrolled-in cells paint before the picture
    this.report.readme.jupyterlab = await this.shot(page, "readme-jupyterlab");
  }

  // ------------------------------------------------------------------------ MLflow UI

  async closeAssistant(page) {
    const close = page.locator('[data-component-id="mlflow.assistant.chat_panel.close"]');
    if ((await close.count()) > 0) await close.first().click({ timeout: 5000 }).catch(() => {});
  }

  async headings(page) {
    return (await page.locator("h1, h2").allInnerTexts()).map((h) => h.trim()).filter(Boolean);
  }

  // Read a metric's row ("name  value ...") from the run page.
  async metricRow(page, name) {
    const row = page.getByRole("row").filter({
      has: page.getByRole("cell", { name, exact: true }),
    });
    await row.first().waitFor({ state: "visible" });
    await row.first().scrollIntoViewIfNeeded();
    const cells = await row.first().getByRole("cell").allInnerTexts();
    return cells.map((c) => c.trim());
  }

  async run(page, wanted) {
    const entry = { ...wanted, url: null, runId: null, metrics: {}, headings: [], error: null };
    this.report.runs.push(entry);
    try {
      await page.goto(this.config.mlflow_ui, { timeout: this.config.timeouts.step });
      await page.getByRole("link", { name: "Experiments", exact: true }).first().waitFor();
      await this.closeAssistant(page);
      await this.shot(page, "mlflow-home");
      // The course's runs are model training runs, not GenAI traces: switch the UI's mode.
      await page.getByText("Model training", { exact: true }).first().click();
      await page.getByRole("link", { name: "Experiments", exact: true }).first().click();
      await page.getByRole("link", { name: wanted.experiment, exact: true }).first().click();
      const runLink = page.getByRole("link", { name: wanted.run, exact: true }).first();
      await runLink.waitFor({ state: "visible" });
      await this.closeAssistant(page);
      await this.shot(page, `mlflow-${wanted.experiment}-runs`);
      this.report.readme.mlflow_runs = this.report.screenshots.at(-1);
      await runLink.click();
      await page.waitForURL(/#\/experiments\/[^/]+\/runs\/[0-9a-f]+/);
      entry.url = page.url();
      entry.runId = entry.url.match(/\/runs\/([0-9a-f]+)/)[1];
      await this.closeAssistant(page);
      await page.getByRole("heading", { name: wanted.run, exact: true }).first().waitFor();
      entry.headings = await this.headings(page);
      for (const metric of wanted.metrics) {
        entry.metrics[metric] = await this.metricRow(page, metric);
      }
      await page.getByText(/^Metrics \(\d+\)$/).first().evaluate((el) => el.scrollIntoView({ block: "start" }));
      await page.waitForTimeout(300); // let the scrolled-in part paint before the picture
      this.report.readme.mlflow_run = await this.shot(page, `mlflow-${wanted.run}-metrics`);
    } catch (error) {
      entry.error = String(error && error.stack ? error.stack : error);
      await this.shot(page, `mlflow-${wanted.run}-FAILED`);
    }
  }

  // Open a run link a notebook printed, as a student who clicks it: the page must name the run.
  async link(page, url) {
    const entry = { url, headings: [], error: null };
    this.report.links.push(entry);
    try {
      await page.goto(url, { timeout: this.config.timeouts.step });
      await page.getByText("About this run").first().waitFor();
      entry.headings = await this.headings(page);
      await this.closeAssistant(page);
      await this.shot(page, "mlflow-printed-link");
    } catch (error) {
      entry.error = String(error && error.stack ? error.stack : error);
      await this.shot(page, "mlflow-printed-link-FAILED");
    }
  }

  // ------------------------------------------------------------------------ guided UI tasks

  // The guided tasks of notebooks 05, 06 and 08 in the MLflow UI, on a state the notebooks left
  // (config.guided names what to find). Each task records what its page shows and one picture.
  async guidedTasks(page) {
    const g = this.config.guided;
    this.report.guided = {};
    const task = async (name, steps) => {
      const entry = { text: "", url: null, shot: null, error: null };
      this.report.guided[name] = entry;
      try {
        await steps(entry);
        await this.closeAssistant(page);
        await page.waitForTimeout(500); // let the last change paint before the picture
        entry.url = page.url();
        entry.text = (await page.locator("body").innerText()).slice(0, 20000);
        entry.shot = await this.shot(page, `guided-${name}`);
      } catch (error) {
        entry.error = String(error && error.stack ? error.stack : error);
        await this.shot(page, `guided-${name}-FAILED`);
      }
    };
    const openExperiment = async () => {
      await page.goto(this.config.mlflow_ui, { timeout: this.config.timeouts.step });
      await page.getByRole("link", { name: "Experiments", exact: true }).first().waitFor();
      await this.closeAssistant(page);
      await page.getByText("Model training", { exact: true }).first().click();
      await page.getByRole("link", { name: "Experiments", exact: true }).first().click();
      await page.getByRole("link", { name: g.experiment, exact: true }).first().click();
      await page.getByRole("link", { name: g.sweepRun, exact: true }).first().waitFor();
      await this.closeAssistant(page);
    };
    // Notebook 05: unfold the sweep, tick its child runs, Compare, and plot ROC AUC.
    await task("compare", async () => {
      await openExperiment();
      const row = (name) =>
        page.getByRole("row").filter({ has: page.getByRole("link", { name, exact: true }) });
      await row(g.sweepRun).getByRole("button").first().click(); // the unfold button
      for (const child of g.sweepChildren) await row(child).getByRole("checkbox").check();
      await page.getByRole("button", { name: "Compare", exact: true }).click();
      await page.getByText("Parallel Coordinates Plot", { exact: true }).first().waitFor();
      // Plot the parameters and the metric the notebook compares instead of the UI's first ones.
      if (g.compareParams) await this.chooseInSelect(page, "Parameters:", g.compareParams);
      await this.chooseInSelect(page, "Metrics:", [g.metric]);
      await page.waitForLoadState("networkidle").catch(() => {});
    });
    // Notebook 05: the model logged by the run best-config, its MLmodel file with the signature.
    await task("logged-model", async () => {
      await openExperiment();
      await page.getByRole("link", { name: g.modelRun, exact: true }).first().click();
      await page.getByRole("heading", { name: g.modelRun, exact: true }).first().waitFor();
      const href = await page.getByRole("link", { name: "model", exact: true }).first().getAttribute("href");
      await page.goto(new URL(href, page.url()).href); // the link opens a new tab: stay in this one
      await page.getByRole("tab", { name: "Artifacts" }).or(page.getByRole("link", { name: "Artifacts", exact: true })).first().click();
      await page.getByText("MLmodel", { exact: true }).first().click();
      const signature = page.getByText(/^signature:?$/).first();
      await signature.waitFor();
      await signature.evaluate((el) => el.scrollIntoView({ block: "center" }));
    });
    // Notebook 06: the registered model's page (versions, their tags and aliases) ...
    const openModel = async (name) => {
      await page.goto(`${this.config.mlflow_ui}/#/models/${encodeURIComponent(name)}`);
      await page.getByRole("heading", { name, exact: true }).first().waitFor();
      await this.closeAssistant(page);
      await page.getByRole("link", { name: /^Version \d+$/ }).first().waitFor();
    };
    await task("registered-model", async () => {
      await openModel(g.model06);
    });
    // ... and the champion's version page: its tags, aliases and the run it came from.
    await task("version", async () => {
      await openModel(g.model06);
      await page.getByRole("link", { name: `Version ${g.version06}`, exact: true }).first().click();
      await page.getByRole("heading", { name: `Version ${g.version06}` }).first().waitFor();
      await page.getByText(g.version06Run, { exact: true }).first().waitFor();
    });
    // Notebook 08: which version holds the alias champion after the delivery pipeline.
    await task("champion", async () => {
      await openModel(g.model08);
      await page.getByRole("link", { name: `Version ${g.version08}`, exact: true }).first().click();
      await page.getByRole("heading", { name: `Version ${g.version08}` }).first().waitFor();
      await page.getByText(g.version08Run, { exact: true }).first().waitFor();
    });
  }

  // In the multiple select under the label `label` (the compare page's "Parameters:" and
  // "Metrics:"), keep exactly the items `wanted`: type each missing one, remove the others.
  async chooseInSelect(page, label, wanted) {
    const select = page
      .getByText(label, { exact: true })
      .first()
      .locator("xpath=following::div[contains(concat(' ', @class, ' '), ' du-bois-light-select ')][1]");
    const items = select.locator(".du-bois-light-select-selection-item");
    const shown = async () => (await items.allInnerTexts()).map((t) => t.trim());
    for (const item of wanted) {
      if ((await shown()).includes(item)) continue;
      await select.click();
      await page.keyboard.type(item);
      await page.keyboard.press("Enter");
      await page.keyboard.press("Escape");
    }
    for (let i = (await items.count()) - 1; i >= 0; i -= 1) {
      const text = (await items.nth(i).innerText()).trim();
      if (!wanted.includes(text)) {
        await items.nth(i).locator(".du-bois-light-select-selection-item-remove").click();
      }
    }
    const left = await shown();
    if (left.length !== wanted.length || wanted.some((w) => !left.includes(w))) {
      throw new Error(`${label} shows ${JSON.stringify(left)}, not ${JSON.stringify(wanted)}`);
    }
  }

  // ------------------------------------------------------------------------ a static page

  // Open config.page (e.g. the class progress page, served from 127.0.0.1), record every
  // request it makes, and describe each table cell: its class, text, and the colours a reader
  // sees (the text colour and the background composed over the cell's ancestors).
  async staticPage(page) {
    const entry = { url: this.config.page, requests: [], cells: [], shot: null, error: null };
    this.report.page = entry;
    page.on("request", (request) => entry.requests.push(request.url()));
    try {
      await page.goto(this.config.page, { waitUntil: "networkidle" });
      for (const td of await page.locator("td").all()) entry.cells.push(await td.evaluate(describeCell));
      const table = page.locator("body");
      entry.shot = await this.shot(page, "static-page", { element: table });
    } catch (error) {
      entry.error = String(error && error.stack ? error.stack : error);
      await this.shot(page, "static-page-FAILED");
    }
  }
}

// Runs in the page: one table cell's class, text, and its text and background colours as
// [r, g, b] on a white page (a translucent background is composed over its ancestors').
function describeCell(td) {
  const parse = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[,\s/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const layers = [];
  for (let el = td; el; el = el.parentElement) layers.push(parse(getComputedStyle(el).backgroundColor));
  let background = [255, 255, 255];
  for (const [r, g, b, a] of layers.reverse()) {
    background = [r, g, b].map((c, i) => c * a + background[i] * (1 - a));
  }
  const [r, g, b, a] = parse(getComputedStyle(td).color);
  return {
    className: td.className,
    text: td.innerText.trim(),
    title: td.title,
    color: [r, g, b].map((c, i) => c * a + background[i] * (1 - a)),
    background,
  };
}

// Runs in the page: what one output shows.
function describeOutput(o) {
  const mime = o.getAttribute("data-mime-type");
  const box = o.getBoundingClientRect();
  const style = getComputedStyle(o);
  const visible = box.width > 0 && box.height > 0 && style.visibility !== "hidden";
  const images = [...o.querySelectorAll("img")].map((img) => {
    const r = img.getBoundingClientRect();
    return {
      png: img.src.startsWith("data:image/png"),
      loaded: img.complete && img.naturalWidth > 0,
      width: Math.round(r.width),
      height: Math.round(r.height),
    };
  });
  const widgetNodes = [...o.querySelectorAll(".jupyter-widgets")];
  // The controls are the widgets with no widget inside (a slider, a label; not a box).
  const controls = widgetNodes
    .filter((w) => w.querySelector(".jupyter-widgets") === null)
    .map((w) => {
      const r = w.getBoundingClientRect();
      return {
        classes: [...w.classList].filter((c) => c.startsWith("widget-")).join(" "),
        visible: r.width > 0 && r.height > 0 && getComputedStyle(w).visibility !== "hidden",
        text: w.textContent.replace(/\s+/g, " ").trim().slice(0, 200),
        value: w.querySelector("[role=slider]")?.getAttribute("aria-valuenow") ?? null,
      };
    });
  let kind = "other";
  if (widgetNodes.length > 0 || mime === "application/vnd.jupyter.widget-view+json") kind = "widget";
  else if (mime === "application/vnd.jupyter.stderr") kind = "stderr";
  else if (mime === "application/vnd.jupyter.stdout") kind = "stdout";
  else if (mime && mime.startsWith("image/")) kind = "image";
  else if (mime === "text/html") kind = "html";
  else if (mime === "text/plain") kind = "text";
  const links = [...o.querySelectorAll("a[href]")].map((a) => a.href);
  return {
    mime,
    kind,
    visible,
    text: o.textContent.slice(0, 4000),
    images,
    controls,
    links,
  };
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function main() {
  const [configPath, reportPath] = process.argv.slice(2);
  if (!configPath || !reportPath) {
    console.error("usage: node tests/e2e/journey.mjs CONFIG.json REPORT.json");
    process.exit(2);
  }
  const config = JSON.parse(readFileSync(configPath, "utf8"));
  mkdirSync(config.screenshots, { recursive: true });
  const journey = new Journey(config);
  try {
    await journey.start();
    if (config.mode === "page") {
      await journey.staticPage(await journey.context.newPage());
      return;
    }
    if (config.mode === "guided") {
      await journey.guidedTasks(await journey.context.newPage());
      return;
    }
    const lab = await journey.context.newPage();
    for (const [i, path] of config.notebooks.entries()) {
      const entry = await journey.notebook(lab, path, i === 0);
      if (entry.error) break; // the next notebook would start from an unknown state
    }
    if (journey.report.notebooks.every((n) => !n.error)) {
      const mlflow = await journey.context.newPage();
      for (const wanted of config.runs) await journey.run(mlflow, wanted);
      const printed = journey.report.notebooks
        .flatMap((n) => n.links)
        .filter((u) => u.startsWith(config.mlflow_ui) && /\/runs\/[0-9a-f]+/.test(u));
      for (const url of [...new Set(printed)]) await journey.link(mlflow, url);
    }
  } catch (error) {
    journey.report.error = String(error && error.stack ? error.stack : error);
  } finally {
    await journey.stop().catch((error) => {
      journey.report.error ??= `closing the browser failed: ${error}`;
    });
    writeFileSync(reportPath, JSON.stringify(journey.report, null, 1));
  }
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
