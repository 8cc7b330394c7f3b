export function DevicePage({ id }: { id: string }) {
  return <h1>{id}</h1>;
}
