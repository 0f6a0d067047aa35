/** The package × site version matrix and the vulnerabilities across sites, from the sites' drift. Pure. */
import type { Observation } from '../../reconcile/observation.js';
import type { SitePlan } from '../../reconcile/plan.js';
import type {
  CellState,
  DriftKind,
  DriftReport,
  MatrixCell,
  SiteDrift,
  VulnerabilityEntry,
} from './types.js';

/** Package × site: every PKGPATH a selected site requires or holds, with the installed version and its state. */
export function buildMatrix(
  plans: readonly SitePlan[],
  sites: readonly SiteDrift[],
  observations: ReadonlyMap<string, Observation>,
): DriftReport['matrix'] {
  const rows = new Map<string, Array<MatrixCell | null>>();
  const cellsOf = (pkgpath: string) => {
    let cells = rows.get(pkgpath);
    if (!cells) {
      cells = new Array<MatrixCell | null>(plans.length).fill(null);
      rows.set(pkgpath, cells);
    }
    return cells;
  };
  plans.forEach((plan, index) => {
    const site = sites[index] as SiteDrift;
    const observation = observations.get(plan.site);
    const known = site.sync !== 'unknown' && observation?.state === 'known' ? observation : undefined;
    const vulnerable = new Set(plan.audit.map((f) => f.pkgname));
    const installedByPath = new Map<string, string>();
    for (const p of known?.installed ?? [])
      if (p.pkgpath !== undefined) installedByPath.set(p.pkgpath, p.pkgname);
    const itemState = new Map<string, CellState>();
    for (const item of site.items) {
      if (item.pkgpath === undefined || item.kind === 'vulnerable' || item.kind === 'audit-not-run') continue;
      if (!itemState.has(item.pkgpath)) itemState.set(item.pkgpath, cellStateOf(item.kind));
    }
    for (const requirement of plan.desired.requirements) {
      const installed = installedByPath.get(requirement.pkgpath);
      const state: CellState = !known
        ? 'unknown'
        : (itemState.get(requirement.pkgpath) ?? (requirement.state === 'absent' ? 'absent' : 'ok'));
      cellsOf(requirement.pkgpath)[index] = cell(state, installed, vulnerable);
    }
    for (const [pkgpath, pkgname] of installedByPath) {
      const cells = cellsOf(pkgpath);
      if (cells[index] === null)
        cells[index] = cell(itemState.get(pkgpath) ?? 'not-required', pkgname, vulnerable);
    }
  });
  return {
    sites: plans.map((p) => p.site),
    rows: [...rows]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([pkgpath, cells]) => ({ pkgpath, cells })),
  };
}

function cell(state: CellState, installed: string | undefined, vulnerable: ReadonlySet<string>): MatrixCell {
  if (installed === undefined) return { state };
  return vulnerable.has(installed) ? { state, installed, vulnerable: true } : { state, installed };
}

function cellStateOf(kind: DriftKind): CellState {
  switch (kind) {
    case 'missing':
    case 'wrong-version':
    case 'must-be-absent':
    case 'not-declared':
    case 'ignored':
    case 'blocked':
    case 'unknown':
      return kind;
    case 'pkgsrc-too-old':
      return 'blocked';
    default:
      return 'unknown';
  }
}

/** Each advisory once, with every site whose installed package it names. */
export function collectVulnerabilities(
  plans: readonly SitePlan[],
  sites: readonly SiteDrift[],
  observations: ReadonlyMap<string, Observation>,
): VulnerabilityEntry[] {
  const byKey = new Map<string, VulnerabilityEntry>();
  plans.forEach((plan, index) => {
    if ((sites[index] as SiteDrift).sync === 'unknown') return;
    const observation = observations.get(plan.site);
    const pathOf = new Map(
      (observation?.state === 'known' ? observation.installed : []).map((p) => [p.pkgname, p.pkgpath]),
    );
    for (const finding of plan.audit) {
      const key = `${finding.pkgname}\u0000${finding.type}\u0000${finding.url}`;
      let entry = byKey.get(key);
      if (!entry) {
        const pkgpath = pathOf.get(finding.pkgname);
        entry = {
          pkgname: finding.pkgname,
          ...(pkgpath !== undefined ? { pkgpath } : {}),
          type: finding.type,
          url: finding.url,
          endOfLife: finding.type === 'eol',
          sites: [],
        };
        byKey.set(key, entry);
      }
      if (!entry.sites.includes(plan.site)) entry.sites.push(plan.site);
    }
  });
  return [...byKey.values()].sort((a, b) =>
    a.pkgname < b.pkgname ? -1 : a.pkgname > b.pkgname ? 1 : a.url < b.url ? -1 : a.url > b.url ? 1 : 0,
  );
}
