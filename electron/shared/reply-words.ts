// How a reply's operations and energy read, the same in the app, the CLI and the Markdown export.
// The UI imports this file too, so it imports nothing but types.
import type { ContextCut, ReplyOps } from '../api/contract.js';

/** "The 4 oldest messages were left out: the model reads only the latest part of a long conversation." */
export function contextCutWords(cut: ContextCut): string {
  const parts: string[] = [];
  if (cut.leftOut > 0) parts.push(cut.leftOut === 1 ? 'the oldest message' : `the ${cut.leftOut} oldest messages`);
  if (cut.trimmed) parts.push(cut.leftOut > 0 ? 'the start of the last one' : 'the start of the last message');
  const what = parts.join(' and ');
  const plural = cut.leftOut > 1 || parts.length > 1;
  return `${what.charAt(0).toUpperCase()}${what.slice(1)} ${plural ? 'were' : 'was'} left out: the model reads only the latest part of a long conversation.`;
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

/** "35% of the ANN", "120% more than the ANN" */
export function againstAnn(ops: ReplyOps): string {
  const share = Math.round((100 * ops.picojoulesPerToken) / ops.annPicojoulesPerToken);
  return share <= 100 ? `${share}% of the ANN` : `${share - 100}% more than the ANN`;
}

/**
 * What a reply cost, in parts: for the spiking model ["firing rate 12.3%", "1.2M MACs + 310K ACs per
 * token", "4.56 µJ per token, 120% more than the ANN"]; for the ANN ["1.2M MACs per token", "5.5 µJ per token"].
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

/**
 * The energy of a spiking model per token against the original's, in a plain sentence that says where
 * it goes (any unit, the same for all three): e.g. "This spiking model spends 2.4 times the energy of
 * the original per token: only its FFN activations spike; at T = 4 the layers that still multiply cost
 * 2.1 times the original's, and the spikes add 0.3 times more."
 */
export function energyLine(e: { annMac: number; snnMac: number; snnAc: number; timesteps: number }): string {
  const times = (x: number) => x.toLocaleString('en', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  const ratio = (e.snnMac + e.snnAc) / e.annMac;
  const where = `at T = ${e.timesteps} the layers that still multiply cost ${times(e.snnMac / e.annMac)} times the original's, and the spikes add ${times(e.snnAc / e.annMac)} times more`;
  if (ratio > 1) return `This spiking model spends ${times(ratio)} times the energy of the original per token: only its FFN activations spike; ${where}.`;
  return `This spiking model saves ${Math.round(100 * (1 - ratio))}% of the original's energy per token: its FFN multiplies became cheaper spike accumulates; ${where}.`;
}
