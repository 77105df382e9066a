import '@mantine/charts/styles.css';
import { BarChart } from '@mantine/charts';

export interface ChartRow {
  name: string;
  'In use': number;
  Available: number;
}

/** Purchased = in use + available, stacked; loaded on demand (recharts is the largest library here). */
export default function EntitlementChart({ rows, title }: { rows: ChartRow[]; title: string }) {
  return (
    <figure style={{ margin: 0 }} aria-label={title}>
      <BarChart
        h={Math.max(160, rows.length * 44)}
        data={rows}
        dataKey="name"
        type="stacked"
        orientation="vertical"
        yAxisProps={{ width: 220 }}
        series={[
          { name: 'In use', color: 'blue.8' },
          { name: 'Available', color: 'teal.7' },
        ]}
        withLegend
      />
      <figcaption style={{ position: 'absolute', left: -10000 }}>{title}; the same figures are in the table below.</figcaption>
    </figure>
  );
}
