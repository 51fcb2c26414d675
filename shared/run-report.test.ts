import { describe, expect, it } from 'vitest';
import {
  addReadings,
  MAX_REPORT_ROWS,
  reportCsv,
  type ReportRow,
  type RunReport,
} from './run-report.ts';

const at = (second: number) => `2030-01-01T12:00:${String(second).padStart(2, '0')}.000Z`;

describe('addReadings', () => {
  it('keeps count, min, max, sum and the first and last time per sensor and type', () => {
    const rows: ReportRow[] = [];
    addReadings(rows, [
      { sensorId: 's-1', type: 'temperature', reading: 21, timestamp: at(5) },
      { sensorId: 's-1', type: 'temperature', reading: 19, timestamp: at(1) },
      { sensorId: 's-1', type: 'humidity', reading: 40, timestamp: at(2) },
    ]);
    // Pages arrive in key order, which is not time order across sensors: order must not matter.
    addReadings(rows, [{ sensorId: 's-1', type: 'temperature', reading: 25, timestamp: at(3) }]);
    expect(rows).toEqual([
      {
        sensorId: 's-1',
        type: 'temperature',
        count: 3,
        min: 19,
        max: 25,
        sum: 65,
        firstAt: at(1),
        lastAt: at(5),
      },
      {
        sensorId: 's-1',
        type: 'humidity',
        count: 1,
        min: 40,
        max: 40,
        sum: 40,
        firstAt: at(2),
        lastAt: at(2),
      },
    ]);
  });

  it('counts the readings of pairs past the row limit instead of growing the report', () => {
    const rows: ReportRow[] = [];
    const readings = Array.from({ length: MAX_REPORT_ROWS + 3 }, (_, i) => ({
      sensorId: `s-${i}`,
      type: 'temperature',
      reading: i,
      timestamp: at(0),
    }));
    expect(addReadings(rows, readings)).toBe(3);
    expect(rows).toHaveLength(MAX_REPORT_ROWS);
  });
});

describe('reportCsv', () => {
  const report: RunReport = {
    runId: 'r-1',
    state: 'READY',
    builtAt: at(0),
    readingsNotBrokenDown: 0,
    rows: [
      {
        sensorId: 'b',
        type: 'temperature',
        count: 4,
        min: 1,
        max: 7,
        sum: 10,
        firstAt: at(1),
        lastAt: at(4),
      },
      {
        sensorId: 'a',
        type: 'pressure',
        count: 1,
        min: 1013,
        max: 1013,
        sum: 1013,
        firstAt: at(2),
        lastAt: at(2),
      },
    ],
  };

  it('writes the run, then one line per sensor and type with the mean, sorted', () => {
    const csv = reportCsv(
      {
        id: 'r-1',
        username: 'ana',
        status: 'FAILED',
        startedAt: at(0),
        finishedAt: at(9),
        duration: 60,
        interval: 1,
        sensorIds: ['a', 'b'],
        errorMessage: 'Simulation abandonée, "par l\'utilisateur"',
      },
      { ...report, final: true, acceptedReadings: 6, storedReadings: 5, parkedReadings: 1 },
    );
    expect(csv.split('\r\n')).toEqual([
      'runId,username,status,startedAt,finishedAt,durationSeconds,intervalSeconds,sensorIds,errorMessage,message,readingsStored,report,reportBuiltAt,readingsAccepted,readingsStoredOrParked',
      `r-1,ana,FAILED,${at(0)},${at(9)},60,1,a;b,"Simulation abandonée, ""par l'utilisateur""",,5,final,${at(0)},6,6`,
      '',
      'sensorId,type,count,min,max,mean,firstTimestamp,lastTimestamp',
      `a,pressure,1,1013,1013,1013,${at(2)},${at(2)}`,
      `b,temperature,4,1,7,2.5,${at(1)},${at(4)}`,
      '',
    ]);
  });

  it('says provisional for a report that is not final, or from before reports said', () => {
    const run = {
      id: 'r-1',
      username: 'ana',
      status: 'COMPLETED',
      startedAt: at(0),
      duration: 60,
      interval: 1,
      sensorIds: [],
    };
    for (const final of [false, undefined]) {
      const line = reportCsv(run, { ...report, ...(final === undefined ? {} : { final }) }).split(
        '\r\n',
      )[1]!;
      expect(line.split(',')[11]).toBe('provisional');
    }
  });
});
