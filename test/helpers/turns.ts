/**
 * How many turns the event loop took while `f` ran: the times a live sensor on the same thread
 * would have read its capture. Work that never yields gives 0.
 */
export async function turnsWhile(f: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let counting = true;
  const tick = () => {
    turns++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  await f();
  counting = false;
  return turns;
}
