// How a reply's or an evaluation's models, operations and energy read, the same in the app, the CLI,
// the HTML report and the Markdown export.
// The UI imports this file too, so it imports nothing but types.
import type { ContextCut, EvaluationResult, EvaluationRow, ReplyOps } from '../api/contract.js';

/** "The 4 oldest messages were left out: the model reads only the latest part of a long conversation." */
export function contextCutWords(cut: ContextCut): string {
  const parts: string[] = [];
  if (cut.leftOut > 0) parts.push(cut.leftOut === 1 ? 'the oldest message' : `the ${cut.leftOut} oldest messages`);
  if (cut.trimmed) parts.push(cut.leftOut > 0 ? 'the start of the last one' : 'the start of the last message');
  const what = parts.join(' and ');
  const plural = cut.leftOut > 1 || parts.length > 1;
  return `${what.charAt(0).toUpperCase()}${what.slice(1)} ${plural ? 'were' : 'was'} left out: the model reads only the latest part of a long conversation.`;
}

const SITE_WORDS: Record<string, string> = {
  attn_in: 'Attention input (keys, queries, values)',
  q: 'Queries, against the keys',
  v: 'Values, weighted by attention',
  attn_out: 'Attention output',
  ffn_in: 'Feed-forward input',
  qcfs: 'Feed-forward activation',
  head_in: 'Last layer, to the words',
};

/** Where a model spiking at every layer receives spikes (spiking.safetensors' site names), in words; an unknown site shows as it is. */
export function siteWords(site: string): string {
  return SITE_WORDS[site] ?? site;
}

/** An evaluation row's model in words: "Original (ANN)", "Fine-tuned (stage 1), not spiking", "Spiking, T = 4". */
export function rowWords(row: Pick<EvaluationRow, 'mode' | 'timesteps'>): string {
  if (row.mode === 'snn') return `Spiking, T = ${row.timesteps}`;
  return row.mode === 'qcfs' ? 'Fine-tuned (stage 1), not spiking' : 'Original (ANN)';
}

/** The mean firing rate over the layers; null for the ANN. */
export function meanFiringRate(ops: ReplyOps): number | null {
  if (ops.firingRates.length === 0) return null;
  return ops.firingRates.reduce((a, b) => a + b, 0) / ops.firingRates.length;
}

/** 0.1234 -> "12.3%" */
export function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(1)}%`;
}

/** 1234567 -> "1.23M" */
export function formatCount(n: number): string {
  return n.toLocaleString('en', { notation: 'compact', maximumSignificantDigits: 3 });
}

/** 4_560_000 pJ -> "4.56 µJ" */
export function formatMicrojoules(picojoules: number): string {
  return `${(picojoules / 1e6).toLocaleString('en', { maximumSignificantDigits: 3 })} µJ`;
}

/** "35% of the original's", "120% more than the original's" */
export function againstAnn(ops: ReplyOps): string {
  const share = Math.round((100 * ops.picojoulesPerToken) / ops.annPicojoulesPerToken);
  return share <= 100 ? `${share}% of the original's` : `${share - 100}% more than the original's`;
}

/**
 * What a reply cost, in parts: for the spiking model ["firing rate 12.3%", "1.2M MACs + 310K ACs per
 * token", "4.56 µJ per token, 120% more than the original's"]; for the ANN ["1.2M MACs per token", "5.5 µJ per token"].
 */
export function opsParts(ops: ReplyOps): string[] {
  const firing = meanFiringRate(ops);
  if (firing === null) return [`${formatCount(ops.macsPerToken)} MACs per token`, `${formatMicrojoules(ops.picojoulesPerToken)} per token`];
  return [
    `firing rate ${percent(firing)}`,
    `${formatCount(ops.macsPerToken)} MACs + ${formatCount(ops.acsPerToken)} ACs per token`,
    `${formatMicrojoules(ops.picojoulesPerToken)} per token, ${againstAnn(ops)}`,
  ];
}

/** 2.36 -> "2.4×", 0.372 -> "0.37×": how many times the original's. */
export function timesWords(x: number): string {
  return `${x.toLocaleString('en', { maximumSignificantDigits: 2 })}×`;
}

/** Why a spiking model spends what it does against the original, in words: its recipe (every layer or the FFN only) and whether it saves. */
function energyReason(ratio: number, everyLayer: boolean): string {
  if (everyLayer) {
    return ratio <= 1
      ? 'fewer operations, because most neurons stay silent and a spike only adds where the original multiplies'
      : 'its neurons fire so often that the additions their spikes cause cost more than the multiplications they replace';
  }
  return ratio > 1
    ? 'only the FFN projection runs on spikes; every other layer still multiplies, once per timestep'
    : 'its FFN projection adds spikes instead of multiplying, and most of its neurons stay silent';
}

/**
 * The energy of a spiking model per token against the original's, in a plain sentence that says why
 * and where it goes; an evaluation of a model spiking at every layer lists its sites. E.g. "This
 * spiking model spends 2.4× the energy of the original per token (only the FFN projection runs on
 * spikes; …): at T = 4 the multiplications left cost 2.1× the original's, and the spikes' additions 0.3×."
 */
export function energyLine(e: NonNullable<EvaluationResult['energy']>): string {
  const { annMacJoules: annMac, snnMacJoules: snnMac, snnAcJoules: snnAc, timesteps } = e;
  const ratio = (snnMac + snnAc) / annMac;
  const where =
    snnMac === 0
      ? `at T = ${timesteps} no multiplications are left: all of it goes to the spikes' additions`
      : `at T = ${timesteps} the multiplications left cost ${timesWords(snnMac / annMac)} the original's, and the spikes' additions ${timesWords(snnAc / annMac)}`;
  return `This spiking model spends ${timesWords(ratio)} the energy of the original per token (${energyReason(ratio, e.perSite !== undefined)}): ${where}.`;
}

/**
 * The plain line under a spiking reply's energy, e.g. "This model spent 0.37× the energy of the
 * original (fewer operations, because most neurons stay silent …)."; null for a reply of the original
 * network, which has nothing to compare.
 */
export function replyEnergyLine(ops: ReplyOps): string | null {
  if (ops.firingRates.length === 0 && ops.sites === undefined) return null;
  const ratio = ops.picojoulesPerToken / ops.annPicojoulesPerToken;
  return `This model spent ${timesWords(ratio)} the energy of the original (${energyReason(ratio, ops.sites !== undefined)}).`;
}
