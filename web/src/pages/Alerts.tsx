export function AlertsPage({ query }: { query: URLSearchParams }) {
  return <h1>Alerts {query.toString()}</h1>;
}
