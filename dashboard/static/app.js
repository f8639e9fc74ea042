// Prow dashboard: a static site. Every page is this one script; it routes by location (Deck's paths).
// Data: the JSON indexes under /data/ (written by the functions) and the artifacts in Blob.
"use strict";

const GITHUB = "https://github.com";
const FIRST_SCREEN = 100;          // jobs the Jobs page waits for before its first render
const ROWS_PER_PAGE = 500;
const HISTORY_PAGE = 20;           // Deck's job history shows 20 runs per page
const NEIGHBOR_LINES = 5;          // lines shown around a highlighted log line (Deck's buildlog lens)
const MIN_SKIPPED = 5;
// Deck's default buildlog highlight expression.
const HIGHLIGHT = /timed out|ERROR:|(FAIL|Failure \[)\b|panic\b|^E\d{4} \d\d:\d\d:\d\d\.\d\d\d]/;
const STATIC_LIMITS = "This dashboard is a static site: rerunning or aborting a job needs Prow's server. " +
  "Comment on the pull request instead (for example /retest, or /test <job>).";

// ---------------------------------------------------------------------------------------------- helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const main = () => document.getElementById("main");

function show(...nodes) {
  const m = main();
  m.replaceChildren(...nodes.flat(Infinity).filter(Boolean));
}

function ready(page) { document.body.dataset.readyAt = Math.round(performance.now()); document.body.dataset.ready = page; }

async function fetchJSON(url, { optional = false } = {}) {
  const resp = await fetch(url, { cache: "no-cache" });
  if (resp.status === 404 && optional) return null;
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
  return resp.json();
}

async function fetchText(url) {
  const resp = await fetch(url, { cache: "no-cache" });
  if (resp.status === 404) return null;
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
  return resp.text();
}

let settingsPromise = null;
function settings() {
  settingsPromise = settingsPromise || fetchJSON("/data/site.json", { optional: true }).then(s => s || {});
  return settingsPromise;
}

function pad(n) { return String(n).padStart(2, "0"); }
function fmtTime(value) {
  if (!value) return "";
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (isNaN(d)) return String(value);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}
function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || isNaN(seconds) || seconds < 0) return "";
  seconds = Math.round(seconds);
  const hh = Math.floor(seconds / 3600), mm = Math.floor(seconds % 3600 / 60), ss = seconds % 60;
  return hh ? `${hh}h${pad(mm)}m${pad(ss)}s` : mm ? `${mm}m${pad(ss)}s` : `${ss}s`;
}
function duration(job) {
  if (!job.started || !job.finished) return null;
  return (Date.parse(job.finished) - Date.parse(job.started)) / 1000;
}
function stateBadge(state) { return h("span", { class: `state ${state || ""}` }, state || "unknown"); }
function fmtBytes(n) {
  if (n === undefined || n === null || isNaN(n)) return "";
  n = Number(n);
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

function repoLink(job) {
  if (!job.org) return "";
  return h("a", { href: `${GITHUB}/${job.org}/${job.repo}` }, `${job.org}/${job.repo}`);
}
function prLinks(job) {
  const pulls = job.pulls || [];
  if (pulls.length) {
    return pulls.map((p, i) => [i ? ", " : "", h("a", { href: `${GITHUB}/${job.org}/${job.repo}/pull/${p.number}`, title: p.title || "" }, `#${p.number}`),
      p.sha ? [" ", h("a", { class: "muted", href: `${GITHUB}/${job.org}/${job.repo}/pull/${p.number}/commits/${p.sha}` }, p.sha.slice(0, 7))] : ""]);
  }
  if (job.base_sha) return h("a", { href: `${GITHUB}/${job.org}/${job.repo}/commit/${job.base_sha}` }, job.base_sha.slice(0, 7));
  return job.base_ref || "";
}
function viewHref(job) { return job.view ? `/view/${job.view}` : (job.url || ""); }

/** The history path Deck uses for a job's runs: pr-logs/directory/<job> for presubmits and batches. */
function historyHref(job) {
  const view = job.view || "";
  const [provider, bucket] = view.split("/");
  const kind = job.type === "presubmit" || job.type === "batch" ? "pr-logs/directory" : "logs";
  if (provider && bucket) return `/job-history/${provider}/${bucket}/${kind}/${job.job}`;
  return `/job-history/-/-/${kind}/${job.job}`;
}

function errorBox(err) { return h("div", { class: "error-box" }, String(err && err.message || err)); }

// ---------------------------------------------------------------------------------------------- Jobs

const JOB_FILTERS = ["repo", "job", "type", "state", "author", "pr"];

function jobMatches(job, f) {
  if (f.repo && `${job.org}/${job.repo}` !== f.repo) return false;
  if (f.job && job.job !== f.job) return false;
  if (f.type && job.type !== f.type) return false;
  if (f.state && job.state !== f.state) return false;
  if (f.author && !(job.pulls || []).some(p => (p.author || "").toLowerCase() === f.author.toLowerCase())) return false;
  if (f.pr && !(job.pulls || []).some(p => String(p.number) === String(f.pr))) return false;
  return true;
}

function newestFirst(a, b) {
  return (b.started || "").localeCompare(a.started || "") || (b.created || "").localeCompare(a.created || "") ||
    (b.id || "").localeCompare(a.id || "");
}

async function jobsPage() {
  const params = new URLSearchParams(location.search);
  const filters = Object.fromEntries(JOB_FILTERS.map(k => [k, params.get(k) || ""]));
  const manifest = await fetchJSON("/data/jobs/manifest.json", { optional: true });
  const hours = Object.entries((manifest && manifest.hours) || {}).sort((a, b) => b[0].localeCompare(a[0]));
  const total = hours.reduce((n, [, e]) => n + (e.count || 0), 0);
  const jobs = [];
  let loaded = 0, shown = ROWS_PER_PAGE;

  const counts = h("div", { class: "counts", id: "state-counts" });
  const tbody = h("tbody");
  const status = h("p", { class: "muted", id: "jobs-status" });
  const moreButton = h("button", { class: "more", onclick: () => { shown += ROWS_PER_PAGE; render(); } }, "Show more");
  const selects = {};
  const options = { repo: new Set(), job: new Set(), type: new Set(), state: new Set() };

  function setFilter(key, value) {
    filters[key] = value;
    const q = new URLSearchParams();
    for (const k of JOB_FILTERS) if (filters[k]) q.set(k, filters[k]);
    history.replaceState(null, "", q.toString() ? `/?${q}` : "/");
    shown = ROWS_PER_PAGE;
    render();
  }
  const filterBar = h("div", { class: "filters" }, JOB_FILTERS.map(key => {
    let input;
    if (key === "author" || key === "pr") {
      input = h("input", { name: key, value: filters[key], placeholder: key === "pr" ? "number" : "login", inputmode: key === "pr" ? "numeric" : null,
        onchange: e => setFilter(key, e.target.value.trim()) });
    } else {
      input = h("select", { name: key, onchange: e => setFilter(key, e.target.value) }, h("option", { value: "" }, "all"));
    }
    selects[key] = input;
    return h("label", {}, key === "pr" ? "PR" : key, input);
  }));

  function fillOptions() {
    for (const key of Object.keys(options)) {
      const sel = selects[key];
      const have = new Set([...sel.options].map(o => o.value));
      const values = [...options[key]].sort();
      if (filters[key] && !options[key].has(filters[key])) values.push(filters[key]);
      for (const v of values) if (!have.has(v)) sel.append(h("option", { value: v }, v));
      sel.value = filters[key];
    }
  }

  function render() {
    const matching = jobs.filter(j => jobMatches(j, filters));
    const byState = {};
    for (const j of matching) byState[j.state] = (byState[j.state] || 0) + 1;
    counts.replaceChildren(...Object.entries(byState).sort().map(([s, n]) =>
      h("span", { class: `count${filters.state === s ? " on" : ""}`, "data-state": s, onclick: () => setFilter("state", filters.state === s ? "" : s) },
        stateBadge(s), " ", String(n))));
    const rows = matching.slice(0, shown).map(j => h("tr", { "data-id": j.id },
      h("td", {}, stateBadge(j.state)),
      h("td", { "data-label": "repo" }, repoLink(j) || h("span", { class: "muted" }, j.type)),
      h("td", { "data-label": "refs" }, prLinks(j)),
      h("td", { class: "job" }, viewHref(j) ? h("a", { href: viewHref(j) }, j.job) : j.job,
        " ", h("a", { class: "muted", href: historyHref(j), title: "job history" }, "history")),
      h("td", { "data-label": "started" }, fmtTime(j.started)),
      h("td", { "data-label": duration(j) === null ? null : "duration", class: "num" }, fmtDuration(duration(j)))));
    tbody.replaceChildren(...rows);
    moreButton.hidden = matching.length <= shown;
    status.textContent = loaded < hours.length
      ? `${matching.length} of ${jobs.length} jobs loaded so far (of ${total}); loading older hours…`
      : `${matching.length} jobs${matching.length !== jobs.length ? ` match (of ${jobs.length})` : ""}.`;
  }

  function add(shard) {
    for (const j of Object.values(shard.jobs || {})) {
      jobs.push(j);
      if (j.org) options.repo.add(`${j.org}/${j.repo}`);
      options.job.add(j.job); options.type.add(j.type); options.state.add(j.state);
    }
  }
  const loadShard = ([hour, entry]) => fetchJSON(`/data/jobs/${hour}.json?v=${entry.seq}`, { optional: true });

  show(h("h1", {}, "Jobs"), filterBar, counts, status,
    h("table", { class: "rows" }, h("thead", {}, h("tr", {}, ["state", "repository", "PR / commit", "job", "started", "duration"].map(t => h("th", {}, t)))), tbody),
    moreButton, h("p", { class: "notice" }, STATIC_LIMITS));
  if (!hours.length) { status.textContent = "No jobs have been published yet."; ready("jobs"); return; }

  // First screen: the newest hours that hold enough jobs (by the manifest's counts), fetched at
  // once; then the rest in the background.
  let first = 0, counted = 0;
  while (first < hours.length && counted < FIRST_SCREEN) counted += hours[first++][1].count || 0;
  (await Promise.all(hours.slice(0, first).map(loadShard))).forEach(shard => { if (shard) add(shard); });
  loaded = first;
  while (loaded < hours.length && jobs.length < FIRST_SCREEN) {
    const shard = await loadShard(hours[loaded++]);
    if (shard) add(shard);
  }
  jobs.sort(newestFirst); fillOptions(); render(); ready("jobs");
  let pendingRender = null;
  const scheduleRender = () => { pendingRender = pendingRender || setTimeout(() => { pendingRender = null; jobs.sort(newestFirst); fillOptions(); render(); }, 150); };
  const queue = hours.slice(loaded);
  const worker = async () => {
    while (queue.length) {
      const shard = await loadShard(queue.shift()).catch(() => null);
      if (shard) add(shard);
      loaded++; scheduleRender();
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  clearTimeout(pendingRender); pendingRender = null;
  jobs.sort(newestFirst); fillOptions(); render();
  document.body.dataset.loaded = "all";
}

// ---------------------------------------------------------------------------------------------- a job run

function artifactURL(base, bucket, path) {
  return `${base}/${bucket}/${path.split("/").map(encodeURIComponent).join("/")}`;
}

async function listRun(base, bucket, dir) {
  const items = [];
  let marker = "";
  do {
    const url = `${base}/${bucket}?restype=container&comp=list&prefix=${encodeURIComponent(dir + "/")}` + (marker ? `&marker=${encodeURIComponent(marker)}` : "");
    const resp = await fetch(url, { cache: "no-cache" });
    if (!resp.ok) throw new Error(`listing ${bucket}/${dir}: HTTP ${resp.status}`);
    const xml = new DOMParser().parseFromString(await resp.text(), "application/xml");
    for (const b of xml.querySelectorAll("Blob")) {
      items.push({ name: b.querySelector("Name").textContent.slice(dir.length + 1),
        size: Number((b.querySelector("Content-Length") || {}).textContent) });
    }
    marker = (xml.querySelector("NextMarker") || {}).textContent || "";
  } while (marker);
  return items;
}

function logView(text) {
  const lines = text.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  const marked = lines.map(l => l.length <= 10000 && HIGHLIGHT.test(l));
  const anyHighlight = marked.some(Boolean);
  const visible = lines.map(() => !anyHighlight);
  if (anyHighlight) {
    marked.forEach((m, i) => { if (m) for (let d = -NEIGHBOR_LINES; d <= NEIGHBOR_LINES; d++) if (i + d >= 0 && i + d < lines.length) visible[i + d] = true; });
  } else if (lines.length > 400) {
    lines.forEach((_, i) => { visible[i] = i >= lines.length - 200; });
  }
  const lineEl = i => {
    const text = lines[i];
    const content = [];
    if (marked[i]) {
      let rest = text, m;
      const re = new RegExp(HIGHLIGHT.source, "g");
      let last = 0;
      while ((m = re.exec(text)) !== null) {
        if (m[0] === "") { re.lastIndex++; continue; }
        content.push(text.slice(last, m.index), h("mark", {}, m[0]));
        last = m.index + m[0].length;
        if (re.source.startsWith("^")) break;
      }
      content.push(text.slice(last));
      void rest;
    } else content.push(text);
    return h("div", { class: `line${marked[i] ? " highlighted" : ""}`, id: `L${i + 1}` }, h("a", { class: "n", href: `#L${i + 1}` }, String(i + 1)), h("span", {}, content));
  };
  const out = h("div", { class: "log", id: "build-log" });
  let i = 0;
  while (i < lines.length) {
    if (visible[i]) { out.append(lineEl(i)); i++; continue; }
    let j = i;
    while (j < lines.length && !visible[j]) j++;
    if (j - i < MIN_SKIPPED) { for (let k = i; k < j; k++) out.append(lineEl(k)); i = j; continue; }
    const start = i, end = j;
    const button = h("button", { class: "skip", onclick: () => {
      const frag = document.createDocumentFragment();
      for (let k = start; k < end; k++) frag.append(lineEl(k));
      button.replaceWith(frag);
    } }, `Show ${end - start} hidden lines`);
    out.append(button);
    i = j;
  }
  return { node: out, highlighted: marked.filter(Boolean).length, total: lines.length };
}

function junitSummary(docs) {
  let tests = 0, failures = 0, skipped = 0;
  const failed = [];
  for (const { name, xml } of docs) {
    for (const tc of xml.querySelectorAll("testcase")) {
      tests++;
      const f = tc.querySelector("failure, error");
      if (f) {
        failures++;
        failed.push({ file: name, name: [tc.getAttribute("classname"), tc.getAttribute("name")].filter(Boolean).join(" "),
          message: (f.getAttribute("message") || "") + (f.textContent ? "\n" + f.textContent : "") });
      } else if (tc.querySelector("skipped")) skipped++;
    }
  }
  return h("div", { id: "junit" },
    h("p", {}, `${tests} tests: ${tests - failures - skipped} passed, ${failures} failed, ${skipped} skipped`),
    failed.map(f => h("details", { class: "junit-fail" }, h("summary", {}, f.name), h("pre", {}, f.message.trim()))));
}

async function viewPage(rest) {
  const parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  const [provider, bucket, ...dirParts] = parts;
  const dir = dirParts.join("/");
  if (!provider || !bucket || !dir) { show(h("h1", {}, "Job run"), errorBox("The address should be /view/<provider>/<bucket>/<path of the run>.")); ready("view"); return; }
  const s = await settings();
  const base = s.artifacts || location.origin;
  const get = name => fetchJSON(artifactURL(base, bucket, `${dir}/${name}`), { optional: true }).catch(() => null);
  const [started, finished, prowjob, podinfo, listing] = await Promise.all([
    get("started.json"), get("finished.json"), get("prowjob.json"), get("podinfo.json"),
    listRun(base, bucket, dir).catch(err => ({ error: err }))]);
  const spec = (prowjob && prowjob.spec) || {};
  const pjStatus = (prowjob && prowjob.status) || {};
  const jobName = spec.job || dirParts[dirParts.length - 2] || dir;
  const refs = spec.refs || (spec.extra_refs || [])[0] || {};
  const result = finished ? (finished.result || (finished.passed ? "SUCCESS" : "FAILURE")) : (pjStatus.state ? pjStatus.state.toUpperCase() : "PENDING");
  const running = !finished && !pjStatus.completionTime;
  const startedAt = started && started.timestamp, finishedAt = finished && finished.timestamp;
  const summaryJob = { org: refs.org, repo: refs.repo, pulls: refs.pulls || [], base_sha: refs.base_sha, base_ref: refs.base_ref,
    job: jobName, type: spec.type || (dir.startsWith("pr-logs/pull/batch") ? "batch" : dir.startsWith("pr-logs/") ? "presubmit" : "postsubmit"),
    view: `${provider}/${bucket}/${dir}` };
  const pull = (refs.pulls || [])[0];

  const meta = h("dl", { class: "meta", id: "metadata" },
    h("dt", {}, "Result"), h("dd", {}, stateBadge(result.toLowerCase()), " ", h("span", { class: "muted" }, pjStatus.description || "")),
    h("dt", {}, "Job"), h("dd", {}, jobName, " · ", h("a", { href: historyHref(summaryJob) }, "job history"),
      pull ? [" · ", h("a", { href: `/pr-history?org=${encodeURIComponent(refs.org)}&repo=${encodeURIComponent(refs.repo)}&pr=${pull.number}` }, "PR history")] : ""),
    refs.org ? [h("dt", {}, "Repository"), h("dd", {}, repoLink(summaryJob), refs.base_ref ? ` (${refs.base_ref})` : "")] : "",
    h("dt", {}, "Refs"), h("dd", {}, prLinks(summaryJob) || "", started && started.repos ? h("div", { class: "muted" }, Object.entries(started.repos).map(([r, v]) => `${r}: ${v}`).join("; ")) : ""),
    pull && pull.title ? [h("dt", {}, "Title"), h("dd", {}, pull.title)] : "",
    h("dt", {}, "Started"), h("dd", {}, fmtTime(startedAt || pjStatus.startTime) || "not yet"),
    h("dt", {}, "Finished"), h("dd", {}, fmtTime(finishedAt || pjStatus.completionTime) || "not yet"),
    h("dt", {}, "Duration"), h("dd", {}, startedAt && finishedAt ? fmtDuration(finishedAt - startedAt) : running ? "running" : ""),
    finished && finished.revision ? [h("dt", {}, "Revision"), h("dd", {}, finished.revision)] : "",
    pjStatus.build_id ? [h("dt", {}, "Build ID"), h("dd", {}, pjStatus.build_id)] : "",
    spec.rerun_command ? [h("dt", {}, "Rerun"), h("dd", {}, "comment ", h("code", {}, spec.rerun_command), " on the PR")] : "");

  const sections = [h("h1", {}, jobName, " ", h("span", { class: "muted" }, dirParts[dirParts.length - 1])), meta,
    h("p", { class: "notice", id: "static-notice" }, STATIC_LIMITS,
      running ? " This job is still running: its build log appears here when the job finishes (a static site cannot stream a running pod's log)." : "")];

  const files = Array.isArray(listing) ? listing : null;
  const logNames = files ? files.map(f => f.name).filter(n => /(^|\/|-)build-log\.txt$/.test(n) && !n.startsWith("artifacts/")) : ["build-log.txt"];
  for (const name of (logNames.length ? logNames : ["build-log.txt"])) {
    const text = await fetchText(artifactURL(base, bucket, `${dir}/${name}`)).catch(() => null);
    sections.push(h("h2", {}, name === "build-log.txt" ? "Build log" : name));
    if (text === null) { sections.push(h("p", { class: "muted" }, running ? "No build log yet." : "No build log was uploaded.")); continue; }
    const view = logView(text);
    sections.push(h("p", { class: "muted" }, `${view.total} lines, ${view.highlighted} highlighted · `, h("a", { href: artifactURL(base, bucket, `${dir}/${name}`) }, "raw")), view.node);
  }

  if (files) {
    const junitFiles = files.filter(f => /(^|\/)junit[^/]*\.xml$/.test(f.name));
    if (junitFiles.length) {
      const docs = await Promise.all(junitFiles.map(async f => ({ name: f.name,
        xml: new DOMParser().parseFromString(await fetchText(artifactURL(base, bucket, `${dir}/${f.name}`)) || "<x/>", "application/xml") })));
      sections.push(h("h2", {}, "JUnit"), junitSummary(docs));
    }
    sections.push(h("h2", {}, "Artifacts"), h("table", { class: "rows", id: "artifacts" },
      h("thead", {}, h("tr", {}, h("th", {}, "name"), h("th", { class: "num" }, "size"))),
      h("tbody", {}, files.map(f => h("tr", {}, h("td", {}, h("a", { href: artifactURL(base, bucket, `${dir}/${f.name}`) }, f.name)), h("td", { class: "num" }, fmtBytes(f.size)))))));
  } else {
    sections.push(h("h2", {}, "Artifacts"), h("p", { class: "notice" }, `The artifact list needs anonymous list access (or a SAS) on container ${bucket}: ${listing.error.message}`));
  }

  if (podinfo && podinfo.pod) {
    const pod = podinfo.pod, st = pod.status || {};
    sections.push(h("h2", {}, "Pod"), h("dl", { class: "meta", id: "podinfo" },
      h("dt", {}, "Pod"), h("dd", {}, (pod.metadata || {}).name || ""),
      h("dt", {}, "Phase"), h("dd", {}, st.phase || ""),
      h("dt", {}, "Node"), h("dd", {}, (pod.spec || {}).nodeName || ((podinfo.node || {}).metadata || {}).name || ""),
      (st.containerStatuses || []).map(c => [h("dt", {}, `container ${c.name}`), h("dd", {}, Object.entries(c.state || {}).map(([k, v]) => `${k}${v && v.reason ? ` (${v.reason}${v.exitCode !== undefined ? `, exit ${v.exitCode}` : ""})` : ""}`).join(", "))])));
    if ((podinfo.events || []).length) {
      sections.push(h("table", { class: "rows" }, h("thead", {}, h("tr", {}, ["type", "reason", "message"].map(t => h("th", {}, t)))),
        h("tbody", {}, podinfo.events.map(e => h("tr", {}, h("td", {}, e.type || ""), h("td", {}, e.reason || ""), h("td", {}, e.message || ""))))));
    }
  }
  show(sections);
  if (location.hash) { const el = document.querySelector(location.hash); if (el) el.scrollIntoView(); }
  ready("view");
}

// ---------------------------------------------------------------------------------------------- job history

function svgEl(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}
const STATE_COLORS = { success: "#1f883d", failure: "#cf222e", error: "#8250df", aborted: "#6e7781", pending: "#bf8700", triggered: "#bf8700" };

/** Bars per run, oldest left: duration as height, state as colour, and the pass rate (rolling 10) as a line. */
function historyCharts(runs) {
  const ordered = runs.slice(0, 100).reverse();
  const W = 900, H = 160, pad = 30, n = Math.max(ordered.length, 1), bw = (W - pad) / n;
  const durations = ordered.map(duration);
  const max = Math.max(60, ...durations.filter(d => d !== null));
  const dur = svgEl("svg", { class: "chart", id: "duration-chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "duration per run" },
    svgEl("text", { x: 0, y: 10 }, `max ${fmtDuration(max)}`),
    ...ordered.map((r, i) => {
      const d = durations[i] || 0, bh = Math.max(1, (H - 20) * d / max);
      return svgEl("rect", { x: pad + i * bw, y: H - bh, width: Math.max(1, bw - 1), height: bh, fill: STATE_COLORS[r.state] || "#999" },
        svgEl("title", {}, `${r.build_id || r.id}: ${r.state} ${fmtDuration(durations[i])}`));
    }));
  const finished = ordered.map(r => ["success", "failure", "error"].includes(r.state) ? r.state === "success" : null);
  const points = [];
  finished.forEach((_, i) => {
    const window = finished.slice(Math.max(0, i - 9), i + 1).filter(x => x !== null);
    if (window.length) points.push([pad + i * bw + bw / 2, 10 + (H - 20) * (1 - window.filter(Boolean).length / window.length)]);
  });
  const done = finished.filter(x => x !== null);
  const rate = done.length ? Math.round(100 * done.filter(Boolean).length / done.length) : null;
  const pass = svgEl("svg", { class: "chart", id: "pass-chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "pass rate" },
    svgEl("text", { x: 0, y: 14 }, "100%"), svgEl("text", { x: 0, y: H - 8 }, "0%"),
    svgEl("line", { x1: pad, y1: H - 10, x2: W, y2: H - 10, stroke: "#e1e4e8" }),
    svgEl("polyline", { points: points.map(p => p.join(",")).join(" "), fill: "none", stroke: "#1f883d", "stroke-width": 2 }),
    ...ordered.map((r, i) => svgEl("circle", { cx: pad + i * bw + bw / 2, cy: H - 4, r: Math.min(3, bw / 2), fill: STATE_COLORS[r.state] || "#999" })));
  return { rate, done: done.length, nodes: [h("h2", {}, "Pass rate (rolling 10 runs)"), pass, h("h2", {}, "Duration"), dur] };
}

async function jobHistoryPage(rest) {
  const parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  const jobName = parts[parts.length - 1];
  const doc = jobName ? await fetchJSON(`/data/history/${encodeURIComponent(jobName)}.json`, { optional: true }) : null;
  if (!doc) { show(h("h1", {}, `Job history: ${jobName || ""}`), h("p", { class: "muted" }, "No runs of this job have been published.")); ready("job-history"); return; }
  const runs = Object.values(doc.runs || {}).sort((a, b) => (b.build_id || "").length - (a.build_id || "").length || (b.build_id || "").localeCompare(a.build_id || "") || newestFirst(a, b));
  const params = new URLSearchParams(location.search);
  const from = params.get("buildId");
  let start = from ? runs.findIndex(r => r.build_id === from) : 0;
  if (start < 0) start = 0;
  const page = runs.slice(start, start + HISTORY_PAGE);
  const charts = historyCharts(runs);
  const nav = h("p", {},
    start > 0 ? h("a", { href: `${location.pathname}?buildId=${runs[Math.max(0, start - HISTORY_PAGE)].build_id || ""}` }, "← newer runs") : "",
    start > 0 && start + HISTORY_PAGE < runs.length ? " · " : "",
    start + HISTORY_PAGE < runs.length ? h("a", { href: `${location.pathname}?buildId=${runs[start + HISTORY_PAGE].build_id || ""}` }, "older runs →") : "");
  show(h("h1", {}, `Job history: ${jobName}`),
    h("p", { id: "pass-rate" }, charts.rate === null ? "No finished runs yet." : `Pass rate ${charts.rate}% over the last ${charts.done} finished runs (of ${runs.length} runs kept).`),
    charts.nodes,
    h("h2", {}, "Runs"),
    h("table", { class: "rows", id: "runs" }, h("thead", {}, h("tr", {}, ["result", "build", "refs", "started", "duration"].map(t => h("th", {}, t)))),
      h("tbody", {}, page.map(r => h("tr", {},
        h("td", {}, stateBadge(r.state)),
        h("td", { "data-label": "build" }, viewHref(r) ? h("a", { href: viewHref(r) }, r.build_id || r.id) : (r.build_id || r.id)),
        h("td", { "data-label": "refs" }, r.org ? [`${r.org}/${r.repo} `, prLinks(r)] : ""),
        h("td", { "data-label": "started" }, fmtTime(r.started)),
        h("td", { "data-label": "duration", class: "num" }, fmtDuration(duration(r))))))),
    nav);
  ready("job-history");
}

// ---------------------------------------------------------------------------------------------- PR history

async function prHistoryPage() {
  const q = new URLSearchParams(location.search);
  const org = q.get("org") || "", repo = q.get("repo") || "", pr = q.get("pr") || "";
  if (!org || !repo || !pr) {
    show(h("h1", {}, "PR history"), h("form", { class: "filters", action: "/pr-history" },
      h("label", {}, "org", h("input", { name: "org" })), h("label", {}, "repo", h("input", { name: "repo" })),
      h("label", {}, "PR", h("input", { name: "pr", inputmode: "numeric" })), h("label", {}, " ", h("button", { type: "submit" }, "Show"))));
    ready("pr-history"); return;
  }
  const doc = await fetchJSON(`/data/pr/${encodeURIComponent(org)}/${encodeURIComponent(repo)}/${encodeURIComponent(pr)}.json`, { optional: true });
  const title = h("h1", {}, `${org}/${repo} `, h("a", { href: `${GITHUB}/${org}/${repo}/pull/${pr}` }, `#${pr}`));
  if (!doc) { show(title, h("p", { class: "muted" }, "No jobs have run for this pull request.")); ready("pr-history"); return; }
  const runs = Object.values(doc.runs || {}).sort(newestFirst);
  const groups = new Map();
  for (const r of runs) {
    const pull = (r.pulls || []).find(p => String(p.number) === String(pr)) || {};
    const sha = pull.sha || "unknown";
    if (!groups.has(sha)) groups.set(sha, { sha, runs: [], title: pull.title, author: pull.author });
    groups.get(sha).runs.push(r);
  }
  const first = runs.find(r => (r.pulls || []).length);
  const prTitle = first ? ((first.pulls.find(p => String(p.number) === String(pr)) || {}).title || "") : "";
  show(title, prTitle ? h("p", {}, prTitle) : "",
    [...groups.values()].map(g => h("section", { class: "commit", "data-sha": g.sha },
      h("h2", {}, "Commit ", h("a", { href: `${GITHUB}/${org}/${repo}/pull/${pr}/commits/${g.sha}` }, g.sha.slice(0, 7)),
        h("span", { class: "muted" }, ` · ${g.runs.length} runs`)),
      h("table", { class: "rows" }, h("tbody", {}, g.runs.map(r => h("tr", {},
        h("td", {}, stateBadge(r.state)),
        h("td", {}, viewHref(r) ? h("a", { href: viewHref(r) }, r.job) : r.job),
        h("td", { "data-label": "started" }, fmtTime(r.started)),
        h("td", { "data-label": "duration", class: "num" }, fmtDuration(duration(r))))))))));
  ready("pr-history");
}

// ---------------------------------------------------------------------------------------------- Tide

const TIDE_ACTIONS = { WAIT: "Waiting", TRIGGER: "Triggering retests", TRIGGER_BATCH: "Triggering a batch",
  MERGE: "Merging", MERGE_BATCH: "Merging a batch", BLOCKED: "Blocked" };

function prLink(org, repo, pr) {
  return h("a", { href: `${GITHUB}/${org}/${repo}/pull/${pr.Number}` }, `#${pr.Number}`);
}

async function tidePage() {
  const raw = await fetchJSON("/data/tide.json", { optional: true });
  const data = Array.isArray(raw) ? { Pools: raw } : (raw || {});
  const pools = data.Pools || [];
  const queries = data.Queries || [];
  const sections = [h("h1", {}, "Tide")];
  if (!raw) sections.push(h("p", { class: "muted" }, "Tide has not published its pools yet."));
  if (data.Updated) sections.push(h("p", { class: "muted", id: "tide-updated" }, `Published ${fmtTime(data.Updated)}.`));
  if (queries.length) sections.push(h("h2", {}, "Merge requirements"), h("ul", { id: "tide-queries" }, queries.map(q => h("li", {}, h("code", {}, q)))));
  sections.push(h("h2", {}, `Pools (${pools.length})`));
  for (const p of pools) {
    const waits = [];
    for (const pr of p.SuccessPRs || []) waits.push([pr, "ready: all required jobs passed"]);
    for (const pr of p.PendingPRs || []) waits.push([pr, "waiting for required jobs to finish"]);
    for (const pr of p.MissingPRs || []) waits.push([pr, "waiting for required jobs to run or pass (retest needed)"]);
    const inBatch = new Set((p.BatchPending || []).map(pr => pr.Number));
    const target = new Set((p.Target || []).map(pr => pr.Number));
    sections.push(h("section", { class: "pool", "data-pool": `${p.Org}/${p.Repo}:${p.Branch}` },
      h("h2", {}, h("a", { href: `${GITHUB}/${p.Org}/${p.Repo}` }, `${p.Org}/${p.Repo}`), ` ${p.Branch} `,
        h("span", { class: "pill" }, TIDE_ACTIONS[p.Action] || p.Action || "")),
      p.Error ? errorBox(p.Error) : "",
      (p.Blockers || []).length ? h("p", {}, "Blocked by ", (p.Blockers || []).map((b, i) => [i ? ", " : "", h("a", { href: b.URL }, `#${b.Number} ${b.Title || ""}`)])) : "",
      waits.length ? h("table", { class: "rows" }, h("tbody", {}, waits.sort((a, b) => a[0].Number - b[0].Number).map(([pr, why]) => h("tr", {},
        h("td", {}, prLink(p.Org, p.Repo, pr)),
        h("td", {}, pr.Title || ""),
        h("td", { class: "muted" }, why, target.has(pr.Number) ? " · target of the current action" : "", inBatch.has(pr.Number) ? " · in the pending batch" : "",
          pr.Mergeable === "CONFLICTING" ? " · has a merge conflict" : ""))))) : h("p", { class: "muted" }, "No pull requests in the pool.")));
  }
  sections.push(h("p", {}, h("a", { href: "/tide-history" }, "Merge history →")));
  show(sections);
  ready("tide");
}

async function tideHistoryPage() {
  const raw = await fetchJSON("/data/tide-history.json", { optional: true });
  const history = (raw && (raw.History || raw)) || {};
  const rows = [];
  for (const [pool, records] of Object.entries(history)) for (const r of records || []) rows.push([pool, r]);
  rows.sort((a, b) => (b[1].time || "").localeCompare(a[1].time || ""));
  const q = new URLSearchParams(location.search);
  const repoFilter = q.get("repo") || "";
  const shown = rows.filter(([pool]) => !repoFilter || pool.startsWith(repoFilter + ":"));
  show(h("h1", {}, "Tide history"),
    !raw ? h("p", { class: "muted" }, "Tide has not published its history yet.") : "",
    h("table", { class: "rows", id: "tide-history" }, h("thead", {}, h("tr", {}, ["time", "pool", "action", "pull requests", "error"].map(t => h("th", {}, t)))),
      h("tbody", {}, shown.slice(0, 1000).map(([pool, r]) => {
        const [repoPath] = pool.split(":");
        return h("tr", {},
          h("td", { "data-label": "time" }, fmtTime(r.time)),
          h("td", {}, pool),
          h("td", {}, r.action || ""),
          h("td", {}, (r.target || []).map((t, i) => [i ? ", " : "", h("a", { href: `${GITHUB}/${repoPath}/pull/${t.number}`, title: t.title || "" }, `#${t.number}`), t.author ? ` (${t.author})` : ""])),
          h("td", { class: r.err ? "error" : "" }, r.err || ""));
      }))));
  ready("tide-history");
}

// ---------------------------------------------------------------------------------------------- command help

async function commandHelpPage() {
  const s = await settings();
  let help = null, source = "";
  if (s.plugin_help_url) { help = await fetchJSON(s.plugin_help_url).catch(() => null); source = s.plugin_help_url; }
  if (!help) { help = await fetchJSON("/data/plugin-help.json", { optional: true }); source = "/data/plugin-help.json"; }
  if (!help) { show(h("h1", {}, "Command help"), h("p", { class: "muted" }, "The plugin help has not been published.")); ready("command-help"); return; }
  const q = new URLSearchParams(location.search);
  let repo = q.get("repo") || "";
  const search = h("input", { name: "filter", placeholder: "filter commands", oninput: () => render() });
  const repoSelect = h("select", { name: "repo", onchange: e => { repo = e.target.value; history.replaceState(null, "", repo ? `?repo=${encodeURIComponent(repo)}` : location.pathname); render(); } },
    h("option", { value: "" }, "all repositories"), (help.AllRepos || []).slice().sort().map(r => h("option", { value: r }, r)));
  repoSelect.value = repo;
  const list = h("div", { id: "commands" });
  function pluginsFor(r) {
    const rp = help.RepoPlugins || {}, re = help.RepoExternalPlugins || {};
    if (!r) return [[...(rp[""] || [])], [...(re[""] || [])]];
    const org = r.split("/")[0];
    return [[...new Set([...(rp[org] || []), ...(rp[r] || [])])], [...new Set([...(re[org] || []), ...(re[r] || [])])]];
  }
  function render() {
    const [plugins, externals] = pluginsFor(repo);
    const needle = search.value.trim().toLowerCase();
    const entries = [...plugins.map(n => [n, (help.PluginHelp || {})[n]]), ...externals.map(n => [n, (help.ExternalPluginHelp || {})[n]])]
      .filter(([, ph]) => ph).sort((a, b) => a[0].localeCompare(b[0]));
    const cards = [];
    for (const [name, ph] of entries) {
      const commands = (ph.Commands || []).filter(c => !needle || [c.Usage, c.Description, name, ...(c.Examples || [])].join(" ").toLowerCase().includes(needle));
      if (!commands.length) continue;
      cards.push(h("section", { class: "plugin", "data-plugin": name }, h("h2", {}, name),
        commands.map(c => h("div", { class: "command" },
          h("p", {}, h("code", {}, c.Usage || ""), c.Featured ? " ★" : ""),
          h("p", {}, c.Description || ""),
          c.WhoCanUse ? h("p", { class: "muted" }, `Who can use: ${c.WhoCanUse}`) : "",
          (c.Examples || []).length ? h("p", { class: "muted" }, "Examples: ", c.Examples.map((e, i) => [i ? ", " : "", h("code", {}, e)])) : ""))));
    }
    list.replaceChildren(...(cards.length ? cards : [h("p", { class: "muted" }, "No command matches.")]));
  }
  show(h("h1", {}, "Command help"), h("div", { class: "filters" }, h("label", {}, "repository", repoSelect), h("label", {}, "filter", search)), list,
    h("p", { class: "muted" }, `From ${source}.`));
  render();
  ready("command-help");
}

// ---------------------------------------------------------------------------------------------- what a static site cannot do

function staticLimitPage(what) {
  const q = new URLSearchParams(location.search);
  const texts = {
    pr: "The PR dashboard needs a GitHub login (OAuth) on Prow's server, which this static dashboard does not have.",
    rerun: "Rerunning a job needs Prow's server; this dashboard is a static site.",
    abort: "Aborting a job needs Prow's server; this dashboard is a static site.",
    log: "Live logs of a running pod need Prow's server; this dashboard shows a job's build log once the job has finished.",
  };
  const nodes = [h("h1", {}, what === "pr" ? "PR dashboard" : what), h("p", { class: "notice", id: "static-notice" }, texts[what], " ", STATIC_LIMITS)];
  const query = q.get("query") || "";
  if (what === "pr" && query) {
    const author = (query.match(/author:(\S+)/) || [])[1];
    const repo = (query.match(/repo:(\S+)/) || [])[1];
    const p = new URLSearchParams();
    if (author) p.set("author", author);
    if (repo) p.set("repo", repo);
    nodes.push(h("p", {}, `Query: `, h("code", {}, query), " · ", h("a", { href: `/?${p}` }, "the jobs of these pull requests"), " · ",
      h("a", { href: `${GITHUB}/pulls?q=${encodeURIComponent(query)}` }, "search on GitHub")));
  }
  show(nodes);
  ready(what);
}

// ---------------------------------------------------------------------------------------------- routing

const ROUTES = [
  [/^\/(index\.html|404\.html)?$/, () => jobsPage(), "jobs"],
  [/^\/view\/(.+)$/, m => viewPage(m[1]), ""],
  [/^\/job-history\/(.+)$/, m => jobHistoryPage(m[1]), ""],
  [/^\/pr-history\/?$/, () => prHistoryPage(), ""],
  [/^\/tide\/?$/, () => tidePage(), "tide"],
  [/^\/tide-history\/?$/, () => tideHistoryPage(), "tide-history"],
  [/^\/(command-help|plugin-help|plugins)\/?$/, () => commandHelpPage(), "command-help"],
  [/^\/pr\/?$/, () => staticLimitPage("pr"), ""],
  [/^\/(rerun|abort|log)\/?$/, m => staticLimitPage(m[1]), ""],
];

async function route() {
  const path = location.pathname.replace(/\/+$/, "") || "/";
  for (const [re, page, nav] of ROUTES) {
    const m = path.match(re);
    if (!m) continue;
    document.querySelectorAll("[data-nav]").forEach(a => a.classList.toggle("active", a.dataset.nav === nav));
    try { await page(m); } catch (err) { show(errorBox(err)); ready("error"); }
    return;
  }
  show(h("h1", {}, "Not found"), h("p", {}, `There is no page at ${location.pathname}. `, h("a", { href: "/" }, "Jobs")));
  ready("not-found");
}

route();
