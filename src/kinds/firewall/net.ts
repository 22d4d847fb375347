// Addresses and networks as firewall rules need them: which family a source belongs to
// (ip or ip6 in nftables, family= in firewalld rich rules) and whether a network already
// covers a node's address (so a rule does not list it twice). Inputs passed the schema's
// patterns; anything else is refused here, because these strings end up in scripts.

export type Family = "ipv4" | "ipv6";

interface Parsed {
  family: Family;
  /** The address as an unsigned integer (32 or 128 bits). */
  value: bigint;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(text: string): bigint | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  let value = 0n;
  for (const part of match.slice(1)) {
    const octet = Number(part);
    if (octet > 255 || (part.length > 1 && part.startsWith("0"))) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  const parts = text.split(":");
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) groups.push(parseInt(part, 16));
    else return undefined;
  }
  return groups;
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? "");
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "") : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const group of [...head, ...new Array<number>(missing).fill(0), ...tail]) value = (value << 16n) | BigInt(group);
  return value;
}

function parseAddress(text: string): Parsed | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: "ipv4", value: v4 };
  if (!text.includes(":")) return undefined;
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { family: "ipv6", value: v6 };
}

interface Network extends Parsed {
  prefix: number;
}

function parseNetwork(text: string): Network | undefined {
  const slash = text.indexOf("/");
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const bits = address.family === "ipv4" ? 32 : 128;
  if (slash < 0) return { ...address, prefix: bits };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix > bits ? undefined : { ...address, prefix };
}

/** Whether the text is an IPv4/IPv6 address or network (CIDR) a rule can name as a source. */
export function isSource(text: string): boolean {
  return parseNetwork(text) !== undefined;
}

/** Whether the text is a plain address (no prefix length). */
export function isAddress(text: string): boolean {
  return parseAddress(text) !== undefined;
}

/** The family of an address or network; throws on anything else (a bug: validation came first). */
export function familyOf(source: string): Family {
  const network = parseNetwork(source);
  if (!network) throw new Error(`not an address or network: ${JSON.stringify(source)}`);
  return network.family;
}

/** Whether `network` (CIDR or address) contains `address`. */
export function networkContains(network: string, address: string): boolean {
  const net = parseNetwork(network);
  const host = parseAddress(address);
  if (!net || !host || net.family !== host.family) return false;
  const bits = BigInt(net.family === "ipv4" ? 32 : 128);
  const shift = bits - BigInt(net.prefix);
  return net.value >> shift === host.value >> shift;
}
