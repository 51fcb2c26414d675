/**
 * Panel transformations as Grafana applies them to a panel's results, before the visualization
 * reduces them (packages/grafana-data/src/transformations/transformers in grafana/grafana):
 * - `sortBy`: rows ordered by a field, `desc` reversing (sortBy.ts); here the time field, which
 *   the CloudWatch datasource names `Time` (data.TimeSeriesTimeFieldName,
 *   pkg/cloudwatch/response_parser.go);
 * - `limit`: the first `limitField` rows of each frame (limit.ts).
 * CloudWatch returns a data point only for a period with data, so each frame's rows are its
 * periods with a value (a local result's nulls are not rows); each frame is transformed on its
 * own and carries its own times. Another transformation is not emulated: the panel says so (a
 * note), as for any query the stand-in cannot answer.
 */
import type { TransformationJson } from '#shared/dashboard-model/index.ts';
import type { PanelResult } from './evaluate.ts';

const TIME_FIELD = 'Time';

/** The rows (indexes into times) a transformation keeps, in their new order. */
const step = (rows: number[], times: number[], transformation: TransformationJson): number[] => {
  switch (transformation.id) {
    case 'sortBy': {
      const [sort] = (transformation.options.sort ?? []) as { field?: string; desc?: boolean }[];
      if (sort?.field !== TIME_FIELD) throw new Error(`sortBy on ${sort?.field ?? 'no field'}`);
      const ordered = [...rows].sort((a, b) => (times[a] as number) - (times[b] as number));
      return sort.desc ? ordered.reverse() : ordered;
    }
    case 'limit': {
      const limit = Number(transformation.options.limitField ?? 10);
      return rows.slice(0, Math.max(0, limit));
    }
    default:
      throw new Error(`transformation ${transformation.id}`);
  }
};

/** The panel's results after its transformations, in order: each frame with its own times. */
export const transformResult = (
  result: PanelResult,
  transformations: TransformationJson[] | undefined,
): PanelResult => {
  if (!transformations?.length || !result.times || !result.frames) return result;
  const times = result.times;
  try {
    const frames = result.frames.map((frame) => {
      let rows = frame.values.flatMap((v, i) => (v === null ? [] : [i]));
      for (const transformation of transformations) rows = step(rows, times, transformation);
      return {
        ...frame,
        times: rows.map((i) => times[i] as number),
        values: rows.map((i) => frame.values[i] ?? null),
      };
    });
    const { times: _shared, ...rest } = result;
    return { ...rest, frames };
  } catch (error) {
    return {
      ...result,
      notes: [
        ...result.notes,
        `The local stack cannot answer this panel: ${(error as Error).message}.`,
      ],
    };
  }
};
