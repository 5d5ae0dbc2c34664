// The Flume dashboard's page. Plain JavaScript, no build step, no framework: views are
// built with document.createElement and text nodes only, so nothing that comes from a
// job (args, errors, names) is ever parsed as HTML. The API is found relative to this
// script's own URL (<mount>/assets/app.js), wherever the app mounts the dashboard.

const LISTS = ['waiting', 'running', 'scheduled', 'retry', 'dead'];
const SETS = ['scheduled', 'retry', 'dead'];
const RANGES = [
  [60, '1 h'],
  [360, '6 h'],
  [1440, '24 h'],
];
const PAGE_SIZE = 25;
const BULK_CHUNK = 500;

// --- DOM helpers -------------------------------------------------------------------

/** An element with attributes (on* become listeners) and children (strings become text). */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

const number = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '–');

function ago(ms, now = Date.now()) {
  if (typeof ms !== 'number') return '–';
  const seconds = Math.round((now - ms) / 1000);
  const size = Math.abs(seconds);
  const text =
    size < 60
      ? `${size} s`
      : size < 3600
        ? `${Math.round(size / 60)} min`
        : size < 86400
          ? `${(size / 3600).toFixed(1)} h`
          : `${(size / 86400).toFixed(1)} d`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

function duration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** A time shown relative to now, exact in its tooltip. */
function time(ms) {
  if (typeof ms !== 'number') return h('span', { class: 'muted' }, '–');
  return h(
    'time',
    { datetime: new Date(ms).toISOString(), title: new Date(ms).toString() },
    ago(ms),
  );
}

function json(value) {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

// --- The API ----------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const API = new URL('../api/', import.meta.url);

async function api(path, init = {}) {
  const response = await fetch(new URL(path, API), {
    credentials: 'same-origin',
    cache: 'no-store',
    ...init,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = Array.isArray(body?.message) ? body.message.join('; ') : body?.message;
    throw new ApiError(response.status, message || `${response.status} ${response.statusText}`);
  }
  return body;
}

/** An action: a POST with the header that tells the server it comes from this page. */
function act(path) {
  return api(path, { method: 'POST', headers: { 'X-Flume-Dashboard': '1' } });
}

const enc = encodeURIComponent;

// --- Page chrome: status line, notices, confirmation ------------------------------

const state = { actions: false, refreshInterval: 3000, overview: null };

function setStatus(text, failed = false) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.classList.toggle('error', failed);
}

function showNotice(text) {
  const notice = document.getElementById('notice');
  notice.hidden = !text;
  notice.textContent = text ?? '';
}

function readOnlyNotice() {
  showNotice(
    state.actions
      ? ''
      : 'Read-only: retrying, deleting and pausing need a guard on the dashboard (the guards option of FlumeDashboardModule).',
  );
}

/**
 * Asks before an action; `run(progress)` does it and may report progress. Resolves to
 * true when it ran.
 */
function confirmAction(title, text, run) {
  const dialog = document.getElementById('confirm');
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  const progress = document.getElementById('confirm-progress');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  progress.textContent = '';
  ok.disabled = false;
  cancel.disabled = false;
  let stopped = false;
  return new Promise((resolve) => {
    const onOk = async (event) => {
      event.preventDefault();
      ok.disabled = true;
      try {
        await run(
          (line) => (progress.textContent = line),
          () => stopped,
        );
        dialog.close();
        resolve(true);
      } catch (err) {
        progress.textContent = `Failed: ${err.message}`;
        ok.disabled = false;
      }
    };
    const onClose = () => {
      stopped = true;
      ok.removeEventListener('click', onOk);
      dialog.removeEventListener('close', onClose);
      resolve(false);
    };
    ok.addEventListener('click', onOk);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
  });
}

// --- Chart ------------------------------------------------------------------------

/** A uPlot chart of jobs processed and failed per minute. */
class HistoryChart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    this.onResize = () => this.plot?.setSize(this.size());
    window.addEventListener('resize', this.onResize);
  }

  size() {
    return { width: Math.max(this.container.clientWidth, 300), height: 220 };
  }

  update(from, processed, failed) {
    const xs = processed.map((_, i) => from / 1000 + i * 60);
    const data = [xs, processed, failed];
    if (this.plot) return this.plot.setData(data);
    if (!window.uPlot) return;
    this.plot = new window.uPlot(
      {
        ...this.size(),
        series: [
          {},
          {
            label: 'Processed',
            stroke: '#2f855a',
            fill: 'rgba(47,133,90,0.12)',
            width: 1.5,
            points: { show: false },
          },
          {
            label: 'Failed',
            stroke: '#c53030',
            fill: 'rgba(197,48,48,0.10)',
            width: 1.5,
            points: { show: false },
          },
        ],
        axes: [{}, { label: 'jobs / min', size: 60 }],
        scales: { y: { range: (_, min, max) => [0, Math.max(5, max)] } },
      },
      data,
      this.container,
    );
  }

  destroy() {
    window.removeEventListener('resize', this.onResize);
    this.plot?.destroy();
  }
}

const sumSeries = (series) => {
  const totals = [];
  for (const counts of series) counts.forEach((n, i) => (totals[i] = (totals[i] ?? 0) + n));
  return totals;
};

function rangeButtons(current, choose) {
  return h(
    'div',
    { class: 'ranges', role: 'group', 'aria-label': 'Time range' },
    RANGES.map(([minutes, label]) =>
      h(
        'button',
        { class: minutes === current ? 'active' : '', onclick: () => choose(minutes) },
        label,
      ),
    ),
  );
}

// --- Views ------------------------------------------------------------------------

class OverviewView {
  constructor() {
    this.minutes = 60;
  }

  mount(main) {
    this.head = h(
      'div',
      { class: 'panel-head' },
      h('h2', {}, 'Jobs per minute'),
      h('span', { class: 'spacer' }),
    );
    this.ranges = h('div');
    this.head.append(this.ranges);
    this.chartBox = h('div', { class: 'chart', 'data-test': 'chart' });
    this.stats = h('div', { class: 'grid' });
    this.queues = h('section', { class: 'panel' });
    this.pipelines = h('section', { class: 'panel' });
    this.processes = h('section', { class: 'panel' });
    replace(
      main,
      h('h1', {}, 'Overview'),
      this.stats,
      h('section', { class: 'panel' }, this.head, this.chartBox),
      this.queues,
      this.pipelines,
      this.processes,
    );
    this.chart = new HistoryChart(this.chartBox);
    this.renderRanges();
  }

  renderRanges() {
    replace(
      this.ranges,
      rangeButtons(this.minutes, (minutes) => {
        this.minutes = minutes;
        this.renderRanges();
        void this.refresh();
      }),
    );
  }

  async refresh() {
    const [overview, history] = await Promise.all([
      api('overview'),
      api(`history?minutes=${this.minutes}`),
    ]);
    state.overview = overview;
    this.render(overview);
    this.chart.update(
      history.from,
      sumSeries(Object.values(history.processed)),
      sumSeries(Object.values(history.failed)),
    );
  }

  render(overview) {
    const total = (field) => overview.queues.reduce((n, q) => n + q[field], 0);
    replace(
      this.stats,
      [
        ['waiting', 'Waiting'],
        ['processing', 'Running'],
        ['scheduled', 'Scheduled'],
        ['retry', 'Retry'],
        ['dead', 'Dead'],
      ].map(([field, label]) =>
        h(
          'div',
          { class: 'stat' },
          h('div', { class: 'value', 'data-total': field }, number(total(field))),
          h('div', { class: 'label' }, label),
        ),
      ),
      h(
        'div',
        { class: 'stat' },
        h('div', { class: 'value', 'data-total': 'processes' }, number(overview.processes.length)),
        h('div', { class: 'label' }, 'Processes alive'),
      ),
    );

    replace(
      this.queues,
      h('h2', {}, 'Queues'),
      overview.queues.length === 0
        ? h('p', { class: 'muted' }, 'No queue yet: no pipeline is declared or running.')
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', {}, 'Queue'),
                ['Waiting', 'Running', 'Scheduled', 'Retry', 'Dead'].map((t) =>
                  h('th', { class: 'num' }, t),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              overview.queues.map((queue) =>
                h(
                  'tr',
                  { 'data-queue': queue.name },
                  h('td', {}, h('a', { href: `#/queues/${enc(queue.name)}` }, queue.name)),
                  [
                    ['waiting', 'waiting'],
                    ['processing', 'running'],
                    ['scheduled', 'scheduled'],
                    ['retry', 'retry'],
                    ['dead', 'dead'],
                  ].map(([field, list]) =>
                    h(
                      'td',
                      { class: 'num', 'data-count': list },
                      h('a', { href: `#/queues/${enc(queue.name)}/${list}` }, number(queue[field])),
                    ),
                  ),
                ),
              ),
            ),
          ),
    );

    replace(
      this.pipelines,
      h('h2', {}, 'Pipelines'),
      overview.pipelines.length === 0
        ? h('p', { class: 'muted' }, 'No pipeline.')
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', {}, 'Pipeline'),
                h('th', {}, 'Queue'),
                h('th', { class: 'num' }, 'Processes'),
                h('th', { class: 'num' }, 'Running / max'),
                h('th', {}, 'State'),
                state.actions && h('th', {}, ''),
              ),
            ),
            h(
              'tbody',
              {},
              overview.pipelines.map((p) => this.pipelineRow(p)),
            ),
          ),
    );

    replace(
      this.processes,
      h(
        'div',
        { class: 'panel-head' },
        h('h2', {}, 'Processes'),
        h('span', { class: 'spacer' }),
        h('a', { href: '#/processes' }, 'All processes →'),
      ),
      processTable(overview.processes, false),
    );
  }

  pipelineRow(p) {
    const status = p.pausedEverywhere
      ? h('span', { class: 'badge bad' }, 'paused for every instance')
      : p.pausedIn > 0
        ? h('span', { class: 'badge warn' }, `paused in ${p.pausedIn} of ${p.processes}`)
        : p.processes === 0
          ? h('span', { class: 'badge' }, 'not running')
          : h('span', { class: 'badge ok' }, 'running');
    const toggle = async () => {
      const verb = p.pausedEverywhere ? 'resume' : 'pause';
      const done = await confirmAction(
        `${p.pausedEverywhere ? 'Resume' : 'Pause'} pipeline ${p.name}?`,
        p.pausedEverywhere
          ? 'Every instance takes its jobs again within a second.'
          : 'Every instance stops taking its jobs within a second; running jobs finish.',
        () => act(`pipelines/${enc(p.name)}/${verb}`),
      );
      if (done) await refreshNow();
    };
    return h(
      'tr',
      { 'data-pipeline': p.name },
      h('td', {}, p.name),
      h(
        'td',
        {},
        p.queue
          ? h('a', { href: `#/queues/${enc(p.queue)}` }, p.queue)
          : h('span', { class: 'muted' }, '?'),
      ),
      h('td', { class: 'num' }, number(p.processes)),
      h('td', { class: 'num' }, `${number(p.running)} / ${number(p.maxDemand)}`),
      h('td', {}, status),
      state.actions &&
        h(
          'td',
          {},
          h(
            'button',
            { onclick: toggle, 'data-action': p.pausedEverywhere ? 'resume' : 'pause' },
            p.pausedEverywhere ? 'Resume' : 'Pause',
          ),
        ),
    );
  }

  unmount() {
    this.chart?.destroy();
  }
}

function processTable(processes, full) {
  if (processes.length === 0)
    return h('p', { class: 'muted' }, 'No process has sent a heartbeat in the last 15 s.');
  const now = Date.now();
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Host', 'PID', 'Version', 'Started', 'Last heartbeat', 'Pipelines'].map((t) =>
          h('th', {}, t),
        ),
        full && h('th', {}, 'Workers'),
      ),
    ),
    h(
      'tbody',
      {},
      processes.map((p) =>
        h(
          'tr',
          { 'data-process': p.id },
          h('td', { class: 'mono' }, p.host),
          h('td', { class: 'mono' }, String(p.pid)),
          h('td', {}, p.version, h('div', { class: 'muted' }, `Node ${p.node}`)),
          h('td', {}, time(p.startedAt)),
          h(
            'td',
            {},
            h('span', { title: new Date(p.heartbeatAt).toString() }, ago(p.heartbeatAt, now)),
          ),
          h(
            'td',
            {},
            p.pipelines.length === 0
              ? h('span', { class: 'muted' }, 'none (enqueues only)')
              : p.pipelines.map((pipeline) =>
                  h(
                    'div',
                    {},
                    h('span', { class: 'mono' }, pipeline.name),
                    ' ',
                    h('span', { class: 'muted' }, `(${pipeline.queue})`),
                    ` ${number(pipeline.running)} / ${number(pipeline.maxDemand)} `,
                    pipeline.paused
                      ? h('span', { class: 'badge warn' }, 'paused')
                      : h('span', { class: 'badge ok' }, 'taking jobs'),
                  ),
                ),
          ),
          full &&
            h(
              'td',
              {},
              Object.entries(p.workers).map(([queue, names]) =>
                h('div', {}, h('span', { class: 'muted' }, `${queue}: `), names.join(', ')),
              ),
            ),
        ),
      ),
    ),
  );
}

class ProcessesView {
  mount(main) {
    this.body = h('section', { class: 'panel' });
    replace(
      main,
      h('h1', {}, 'Processes'),
      h(
        'p',
        { class: 'muted' },
        'Every process of the app writes a heartbeat every 5 s; one silent for 15 s is gone.',
      ),
      this.body,
    );
  }

  async refresh() {
    const processes = await api('processes');
    replace(this.body, processTable(processes, true));
  }

  unmount() {}
}

class QueueView {
  constructor(queue, list) {
    this.queue = queue;
    this.list = LISTS.includes(list) ? list : 'waiting';
    this.from = 0;
    this.previous = [];
    this.filters = { worker: '', jid: '' };
    this.open = new Set();
    this.workers = [];
  }

  mount(main) {
    this.tabs = h('nav', { class: 'tabs' });
    this.worker = h('input', {
      type: 'search',
      placeholder: 'Worker',
      list: 'workers',
      name: 'worker',
      'aria-label': 'Filter by worker',
    });
    this.jid = h('input', {
      type: 'search',
      placeholder: 'Job id',
      name: 'jid',
      'aria-label': 'Search by job id',
    });
    this.datalist = h('datalist', { id: 'workers' });
    const apply = (event) => {
      event.preventDefault();
      this.filters = { worker: this.worker.value.trim(), jid: this.jid.value.trim() };
      this.restart();
    };
    const clear = () => {
      this.worker.value = '';
      this.jid.value = '';
      this.filters = { worker: '', jid: '' };
      this.restart();
    };
    this.bulk = h('span', { class: 'actions' });
    this.table = h('div');
    this.pager = h('div', { class: 'pager' });
    // Shown only when the queue has groups (see the enqueue option group).
    this.groups = h('section', { class: 'panel', 'data-test': 'groups', hidden: true });
    replace(
      main,
      h(
        'h1',
        {},
        h('a', { href: '#/' }, 'Queues'),
        ' / ',
        h('span', { 'data-test': 'queue-name' }, this.queue),
      ),
      h(
        'section',
        { class: 'panel' },
        this.tabs,
        h(
          'form',
          { class: 'filters', onsubmit: apply },
          this.worker,
          this.datalist,
          this.jid,
          h('button', { type: 'submit', class: 'primary' }, 'Filter'),
          h('button', { type: 'button', onclick: clear }, 'Clear'),
          h('span', { class: 'spacer' }),
          this.bulk,
        ),
        this.table,
        this.pager,
      ),
      this.groups,
    );
  }

  restart() {
    this.from = 0;
    this.previous = [];
    void refreshNow();
  }

  async refresh() {
    const query = new URLSearchParams({ from: String(this.from), limit: String(PAGE_SIZE) });
    if (this.filters.worker) query.set('worker', this.filters.worker);
    if (this.filters.jid) query.set('jid', this.filters.jid);
    const [page, overview, groups] = await Promise.all([
      api(`queues/${enc(this.queue)}/${this.list}?${query}`),
      api('overview'),
      api(`queues/${enc(this.queue)}/groups`),
    ]);
    state.overview = overview;
    this.renderTabs(overview.queues.find((q) => q.name === this.queue));
    this.renderWorkers(page.workers);
    this.renderBulk(page.total);
    this.renderTable(page);
    this.renderPager(page);
    this.renderGroups(groups);
  }

  renderGroups(groups) {
    this.groups.hidden = groups.length === 0;
    if (groups.length === 0) return replace(this.groups);
    replace(
      this.groups,
      h('h2', {}, 'Groups'),
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'Group'),
            h('th', { class: 'num' }, 'Waiting'),
            h('th', { class: 'num' }, 'Running'),
            h('th', {}, 'State'),
            state.actions && h('th', {}, ''),
          ),
        ),
        h(
          'tbody',
          {},
          groups.map((g) => this.groupRow(g)),
        ),
      ),
    );
  }

  groupRow(g) {
    const toggle = async () => {
      const verb = g.paused ? 'resume' : 'pause';
      const done = await confirmAction(
        `${g.paused ? 'Resume' : 'Pause'} group ${g.group} of queue ${this.queue}?`,
        g.paused
          ? 'Every instance takes its jobs again.'
          : 'No instance starts its jobs until it is resumed; running jobs finish, the other groups go on.',
        () => act(`queues/${enc(this.queue)}/groups/${enc(g.group)}/${verb}`),
      );
      if (done) await refreshNow();
    };
    return h(
      'tr',
      { 'data-group': g.group },
      h('td', { class: 'mono' }, g.group),
      h('td', { class: 'num', 'data-count': 'waiting' }, number(g.waiting)),
      h('td', { class: 'num', 'data-count': 'running' }, number(g.running)),
      h(
        'td',
        {},
        g.paused
          ? h('span', { class: 'badge bad', 'data-state': 'paused' }, 'paused for every instance')
          : h('span', { class: 'badge ok', 'data-state': 'active' }, 'taking jobs'),
      ),
      state.actions &&
        h(
          'td',
          {},
          h(
            'button',
            { onclick: toggle, 'data-action': g.paused ? 'resume' : 'pause' },
            g.paused ? 'Resume' : 'Pause',
          ),
        ),
    );
  }

  renderTabs(counts) {
    const field = {
      waiting: 'waiting',
      running: 'processing',
      scheduled: 'scheduled',
      retry: 'retry',
      dead: 'dead',
    };
    replace(
      this.tabs,
      LISTS.map((list) =>
        h(
          'a',
          {
            href: `#/queues/${enc(this.queue)}/${list}`,
            class: list === this.list ? 'active' : '',
            'data-tab': list,
          },
          list[0].toUpperCase() + list.slice(1),
          h('span', { class: 'count' }, counts ? number(counts[field[list]]) : '0'),
        ),
      ),
    );
  }

  renderWorkers(workers) {
    if (workers.join() === this.workers.join()) return;
    this.workers = workers;
    replace(
      this.datalist,
      workers.map((name) => h('option', { value: name })),
    );
  }

  renderBulk(total) {
    if (!state.actions || !SETS.includes(this.list) || total === 0) return replace(this.bulk);
    replace(
      this.bulk,
      h(
        'button',
        { type: 'button', 'data-action': 'retry-all', onclick: () => this.all('retry', total) },
        'Retry all',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          'data-action': 'delete-all',
          onclick: () => this.all('delete', total),
        },
        'Delete all',
      ),
    );
  }

  /** Retries or deletes a whole set, in chunks, with a progress line; stops when closed. */
  async all(verb, total) {
    const what = verb === 'retry' ? 'Retry' : 'Delete';
    const done = await confirmAction(
      `${what} all ${number(total)} jobs of ${this.list}?`,
      verb === 'retry'
        ? `They move to queue ${this.queue} and run now.`
        : `They are deleted from queue ${this.queue} for good.`,
      async (progress, stopped) => {
        let count = 0;
        for (;;) {
          const step = await act(
            `queues/${enc(this.queue)}/${this.list}/${verb}-all?limit=${BULK_CHUNK}`,
          );
          count += step.done;
          progress(
            `${verb === 'retry' ? 'Retried' : 'Deleted'} ${number(count)}; ${number(step.left)} left.`,
          );
          if (step.left === 0 || step.done === 0 || stopped()) break;
        }
      },
    );
    if (done) this.restart();
  }

  renderTable(page) {
    if (page.jobs.length === 0) {
      const filtered = this.filters.worker || this.filters.jid;
      return replace(
        this.table,
        h(
          'p',
          { class: 'muted', 'data-test': 'empty' },
          filtered ? 'No job matches.' : `No ${this.list} job.`,
        ),
      );
    }
    const whenLabel = {
      waiting: 'Enqueued',
      running: 'Running for',
      scheduled: 'Due',
      retry: 'Due',
      dead: 'Died',
    }[this.list];
    const columns = [
      'Job',
      'Worker',
      'Args',
      whenLabel,
      this.list === 'running' ? 'Process' : 'Retries',
      'Error',
    ];
    const rows = [];
    page.jobs.forEach((job, index) => {
      const key = job.jid ?? `#${this.from + index}`;
      const row = h(
        'tr',
        {
          class: 'job',
          'data-jid': job.jid ?? '',
          tabindex: 0,
          'aria-expanded': this.open.has(key) ? 'true' : 'false',
        },
        h('td', { class: 'mono' }, job.jid ?? h('span', { class: 'muted' }, 'not a job')),
        h(
          'td',
          {},
          job.worker ?? '–',
          job.method ? h('span', { class: 'muted' }, `.${job.method}`) : null,
        ),
        h(
          'td',
          {},
          h(
            'span',
            { class: 'clip mono' },
            job.args ? JSON.stringify(job.args) : (job.payload ?? ''),
          ),
        ),
        h('td', {}, this.when(job)),
        h(
          'td',
          { class: this.list === 'running' ? 'mono' : 'num' },
          this.list === 'running' ? (job.lease?.process ?? '–') : number(job.retryCount),
        ),
        h('td', {}, job.error ? h('span', { class: 'clip error-text' }, job.error) : ''),
      );
      const toggle = () => {
        if (this.open.has(key)) this.open.delete(key);
        else this.open.add(key);
        this.renderTable(page);
      };
      row.addEventListener('click', toggle);
      row.addEventListener('keydown', (event) => event.key === 'Enter' && toggle());
      rows.push(row);
      if (this.open.has(key))
        rows.push(
          h('tr', { class: 'details' }, h('td', { colspan: columns.length }, this.details(job))),
        );
    });
    replace(
      this.table,
      h(
        'table',
        { 'data-test': 'jobs' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            columns.map((c) => h('th', {}, c)),
          ),
        ),
        h('tbody', {}, rows),
      ),
    );
  }

  when(job) {
    if (this.list === 'running') {
      return job.lease?.takenAt
        ? duration(Date.now() - job.lease.takenAt)
        : h('span', { class: 'muted' }, '–');
    }
    return time(job.at);
  }

  details(job) {
    const fields = [
      ['Job id', job.jid ?? '–'],
      ['Worker', job.worker ?? '–'],
      ['Method', job.method ?? '(default)'],
      ['Args', job.args ? h('pre', { 'data-test': 'args' }, json(job.args)) : '–'],
      ['Context', job.context ? h('pre', {}, json(job.context)) : '–'],
      ['Retries', job.retryCount ?? '–'],
      ['Enqueued', time(job.enqueuedAt)],
    ];
    if (this.list === 'scheduled' || this.list === 'retry') fields.push(['Due', time(job.at)]);
    if (this.list === 'dead') fields.push(['Died', time(job.at)]);
    if (job.failedAt) fields.push(['Failed', time(job.failedAt)]);
    if (job.error) fields.push(['Error', h('pre', { class: 'error-text' }, job.error)]);
    if (job.backtrace) fields.push(['Backtrace', h('pre', {}, job.backtrace)]);
    if (job.lease) {
      fields.push(['Lease', h('span', { class: 'mono' }, job.lease.id)]);
      fields.push(['Process', job.lease.process ?? 'unknown (no heartbeat names it yet)']);
      fields.push(['Lease due', time(job.at)]);
    }
    if (job.payload !== null) fields.push(['Payload', h('pre', {}, job.payload)]);
    const canAct = state.actions && SETS.includes(this.list) && job.jid;
    return [
      h(
        'dl',
        { class: 'fields' },
        fields.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]),
      ),
      canAct &&
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            { class: 'primary', 'data-action': 'retry', onclick: (e) => this.one(e, 'retry', job) },
            'Retry now',
          ),
          h(
            'button',
            {
              class: 'danger',
              'data-action': 'delete',
              onclick: (e) => this.one(e, 'delete', job),
            },
            'Delete',
          ),
        ),
    ];
  }

  async one(event, verb, job) {
    event.stopPropagation();
    const path = `queues/${enc(this.queue)}/${this.list}/jobs/${enc(job.jid)}/${verb}`;
    const done =
      verb === 'retry'
        ? await act(path)
            .then((r) =>
              r.done ? true : Promise.reject(new Error('the job is no longer in this set')),
            )
            .catch((err) => (showNotice(`Could not retry ${job.jid}: ${err.message}`), false))
        : await confirmAction(`Delete job ${job.jid}?`, 'It is deleted for good.', () => act(path));
    if (done) await refreshNow();
  }

  renderPager(page) {
    const filtered = this.filters.worker || this.filters.jid;
    const first = this.from + 1;
    const summary = filtered
      ? `${number(page.jobs.length)} matching on this page (searched from #${number(first)})`
      : page.jobs.length === 0
        ? `${number(page.total)} jobs`
        : `${number(first)}–${number(this.from + page.jobs.length)} of ${number(page.total)}`;
    replace(
      this.pager,
      h(
        'button',
        {
          disabled: this.previous.length === 0,
          onclick: () => this.go(this.previous.pop() ?? 0, false),
        },
        '← Previous',
      ),
      h(
        'button',
        {
          disabled: page.next === null,
          'data-test': 'next',
          onclick: () => this.go(page.next, true),
        },
        'Next →',
      ),
      h('span', { class: 'muted', 'data-test': 'pager' }, summary),
    );
  }

  go(from, forward) {
    if (forward) this.previous.push(this.from);
    this.from = from;
    void refreshNow();
  }

  unmount() {}
}

// --- Routing and refreshing -------------------------------------------------------

let view = null;
let viewKey = '';
let timer = null;
let running = null;
let runningFor = null;

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decode);
  if (parts[0] === 'queues' && parts[1])
    return {
      key: `queue:${parts[1]}:${parts[2] ?? ''}`,
      make: () => new QueueView(parts[1], parts[2]),
      nav: 'overview',
    };
  if (parts[0] === 'processes')
    return { key: 'processes', make: () => new ProcessesView(), nav: 'processes' };
  return { key: 'overview', make: () => new OverviewView(), nav: 'overview' };
}

function navigate() {
  const next = route();
  if (next.key === viewKey) return;
  view?.unmount();
  viewKey = next.key;
  view = next.make();
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', link.getAttribute('data-nav') === next.nav);
  }
  view.mount(document.getElementById('main'));
  void refreshNow();
}

/** Refreshes the current view now (one refresh at a time; a new view waits its turn). */
async function refreshNow() {
  if (running) {
    const forView = runningFor;
    await running;
    if (forView === view) return;
  }
  const current = view;
  runningFor = current;
  running = (async () => {
    try {
      await current.refresh();
      if (state.overview) {
        state.actions = state.overview.actions;
        state.refreshInterval = state.overview.refreshInterval;
      }
      readOnlyNotice();
      setStatus(`Updated ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      setStatus(
        err.status === 503 ? `Redis unavailable: ${err.message}` : `Update failed: ${err.message}`,
        true,
      );
    } finally {
      running = null;
    }
  })();
  await running;
  schedule();
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (document.hidden || document.getElementById('confirm').open) return schedule();
    void refreshNow();
  }, state.refreshInterval);
}

async function start() {
  try {
    const overview = await api('overview');
    state.actions = overview.actions;
    state.refreshInterval = overview.refreshInterval;
    state.overview = overview;
  } catch (err) {
    setStatus(`Update failed: ${err.message}`, true);
  }
  window.addEventListener('hashchange', navigate);
  navigate();
}

void start();
