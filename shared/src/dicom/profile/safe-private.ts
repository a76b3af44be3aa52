import tableE3101 from './ps315-table-e3-10-1-safe-private.json' with { type: 'json' };

/**
 * PS3.15 Table E.3.10-1 (safe private attributes) for the Retain Safe Private
 * option: a private element (gggg,xxEE) is safe when its block's Private
 * Creator (gggg,00xx), trimmed, is listed for group gggg and offset EE.
 */
interface SafeRow { group: string; element_offset: string; private_creator: string; vr: string }

const safe = new Map<string, string>();
for (const row of (tableE3101 as { attributes: SafeRow[] }).attributes) {
  safe.set(`${row.group.toUpperCase()}|${row.element_offset.toUpperCase()}|${row.private_creator.trim()}`, row.vr);
}

function key(group: number, offset: number, creator: string): string {
  return `${group.toString(16).toUpperCase().padStart(4, '0')}|${offset.toString(16).toUpperCase().padStart(2, '0')}|${creator.trim()}`;
}

/** VR of the safe private element, or undefined when the element is not on the list. */
export function safePrivateVr(group: number, elementOffset: number, privateCreator: string): string | undefined {
  return safe.get(key(group, elementOffset, privateCreator));
}
