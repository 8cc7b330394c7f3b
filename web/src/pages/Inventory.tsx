export function InventoryPage({ query }: { query: URLSearchParams }) {
  return <h1>Inventory {query.toString()}</h1>;
}
