import { BarController, BarElement, CategoryScale, Chart, Filler, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'react';
import type { Schemas } from '../api/client';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend, Filler);

type Point = Schemas['StatsPointView'];

const accent = () => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() || '#3b5bdb';
const label = (iso: string, stepHours: boolean) => {
  const d = new Date(iso);
  return stepHours ? `${String(d.getHours()).padStart(2, '0')}:00` : d.toLocaleDateString(undefined, { month: 'short', day: '2-digit' });
};

function useChart(make: (canvas: HTMLCanvasElement) => Chart, deps: unknown[]) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const chart = make(ref.current);
    return () => chart.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return ref;
}

/** Attempts per step, succeeded and failed stacked: the overview's 24 h sparkline. */
export function Sparkline({ points }: { points: Point[] }) {
  const ref = useChart(
    (canvas) =>
      new Chart(canvas, {
        type: 'bar',
        data: {
          labels: points.map((p) => p.start),
          datasets: [
            { data: points.map((p) => p.succeeded), backgroundColor: '#2f9e44', stack: 's' },
            { data: points.map((p) => p.failed), backgroundColor: '#e03131', stack: 's' },
          ],
        },
        options: {
          animation: false,
          responsive: false,
          plugins: { legend: { display: false }, tooltip: { enabled: false } },
          scales: { x: { display: false, stacked: true }, y: { display: false, stacked: true, beginAtZero: true } },
        },
      }),
    [points],
  );
  return <canvas ref={ref} width={160} height={32} className="sparkline" data-testid="sparkline" />;
}

/** Deliveries by outcome (bars) and attempt latency p50/p99 (lines) over time. */
export function StatsChart({ points, step }: { points: Point[]; step: string }) {
  const hours = /[mh]$/.test(step);
  const ref = useChart(
    (canvas) =>
      new Chart(canvas, {
        type: 'bar',
        data: {
          labels: points.map((p) => label(p.start, hours)),
          datasets: [
            { type: 'bar', label: 'succeeded', data: points.map((p) => p.deliveries.succeeded), backgroundColor: '#2f9e44', stack: 'd', yAxisID: 'y' },
            { type: 'bar', label: 'pending', data: points.map((p) => p.deliveries.pending), backgroundColor: '#f08c00', stack: 'd', yAxisID: 'y' },
            { type: 'bar', label: 'dead', data: points.map((p) => p.deliveries.dead), backgroundColor: '#e03131', stack: 'd', yAxisID: 'y' },
            { type: 'line', label: 'p50 ms', data: points.map((p) => p.p50LatencyMs), borderColor: accent(), pointRadius: 0, spanGaps: true, yAxisID: 'ms' },
            { type: 'line', label: 'p99 ms', data: points.map((p) => p.p99LatencyMs), borderColor: '#7048e8', borderDash: [4, 3], pointRadius: 0, spanGaps: true, yAxisID: 'ms' },
          ],
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          plugins: { legend: { position: 'bottom' } },
          scales: {
            x: { stacked: true },
            y: { stacked: true, beginAtZero: true, title: { display: true, text: 'deliveries' } },
            ms: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'latency (ms)' } },
          },
        },
      }),
    [points, step],
  );
  return (
    <div className="chart">
      <canvas ref={ref} data-testid="stats-chart" />
    </div>
  );
}
