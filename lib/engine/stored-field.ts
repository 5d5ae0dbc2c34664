/**
 * Field `name` of a stored payload's top-level object, read the way the Lua scripts read
 * it (only a payload that mentions `"name":` is decoded); undefined when the payload is
 * not JSON, not an object, or has no such field.
 */
export function storedField(payload: string, name: string): unknown {
  if (!payload.includes(`"${name}":`)) return undefined;
  try {
    const job: unknown = JSON.parse(payload);
    return job !== null && typeof job === 'object'
      ? (job as Record<string, unknown>)[name]
      : undefined;
  } catch {
    return undefined;
  }
}
