//! Figures over a window of recent requests (pure; the rows come from the `db` module): per
//! server and per tool the number of calls, the error rate and the p50/p95 latency, each with a
//! small time series (one point per bucket) for the dashboard's charts.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Outcome;

/// One request as the figures need it: `(ts_ms, server, target, method, outcome,
/// duration_us)`.
pub type Sample = (i64, Option<String>, Option<String>, String, Outcome, i64);

/// The figures of one server or tool.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    /// The server name, or the tool's name as clients call it.
    pub name: String,
    /// The server (for tools; the same as `name` for servers).
    pub server: String,
    /// Requests in the window.
    pub calls: u64,
    /// Requests that did not end `ok`.
    pub errors: u64,
    /// `errors / calls` (0 when there were no calls).
    pub error_rate: f64,
    /// Median latency, in ms.
    pub p50_ms: f64,
    /// 95th-percentile latency, in ms.
    pub p95_ms: f64,
    /// One point per bucket, oldest first.
    pub series: Vec<Point>,
}

/// One bucket of a series.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    /// The bucket's start, in ms since the Unix epoch.
    pub t_ms: i64,
    /// Requests in it.
    pub calls: u64,
    /// Failed requests in it.
    pub errors: u64,
    /// Its p95 latency, in ms (0 without calls).
    pub p95_ms: f64,
}

/// Every figure over a window.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// The window's start, in ms since the Unix epoch.
    pub since_ms: i64,
    /// The window's length, in ms.
    pub window_ms: i64,
    /// The length of one bucket of the series, in ms.
    pub bucket_ms: i64,
    /// Per server, busiest first.
    pub servers: Vec<Figures>,
    /// Per tool (`tools/call` only), busiest first.
    pub tools: Vec<Figures>,
}

/// The `q`-quantile (0..=1) of `sorted` (ascending), nearest-rank; 0 when empty.
pub fn quantile(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Default)]
struct Acc {
    server: String,
    durations: Vec<i64>,
    errors: u64,
    buckets: Vec<(Vec<i64>, u64)>,
}

impl Acc {
    fn add(&mut self, bucket: usize, n: usize, duration_us: i64, failed: bool) {
        if self.buckets.is_empty() {
            self.buckets = vec![(Vec::new(), 0); n];
        }
        self.durations.push(duration_us);
        self.errors += failed as u64;
        let b = &mut self.buckets[bucket.min(n - 1)];
        b.0.push(duration_us);
        b.1 += failed as u64;
    }

    fn finish(mut self, name: String, since_ms: i64, bucket_ms: i64) -> Figures {
        self.durations.sort_unstable();
        let calls = self.durations.len() as u64;
        let ms = |us: i64| us as f64 / 1000.0;
        Figures {
            name,
            server: self.server,
            calls,
            errors: self.errors,
            error_rate: if calls == 0 {
                0.0
            } else {
                self.errors as f64 / calls as f64
            },
            p50_ms: ms(quantile(&self.durations, 0.5)),
            p95_ms: ms(quantile(&self.durations, 0.95)),
            series: self
                .buckets
                .into_iter()
                .enumerate()
                .map(|(i, (mut d, errors))| {
                    d.sort_unstable();
                    Point {
                        t_ms: since_ms + i as i64 * bucket_ms,
                        calls: d.len() as u64,
                        errors,
                        p95_ms: ms(quantile(&d, 0.95)),
                    }
                })
                .collect(),
        }
    }
}

/// The figures of `samples` over the window `[since_ms, since_ms + window_ms)` cut into
/// `buckets` buckets (at least 1). Requests without a server (lists, initialize) count for no
/// server; only `tools/call` counts for tools.
pub fn compute(samples: &[Sample], since_ms: i64, window_ms: i64, buckets: usize) -> Stats {
    let n = buckets.max(1);
    let bucket_ms = (window_ms / n as i64).max(1);
    let mut servers: BTreeMap<String, Acc> = BTreeMap::new();
    let mut tools: BTreeMap<String, Acc> = BTreeMap::new();
    for (ts, server, target, method, outcome, duration_us) in samples {
        if *ts < since_ms {
            continue;
        }
        let Some(server) = server else { continue };
        let bucket = ((ts - since_ms) / bucket_ms) as usize;
        let failed = outcome.is_failure();
        let acc = servers.entry(server.clone()).or_default();
        acc.server = server.clone();
        acc.add(bucket, n, *duration_us, failed);
        if let (Some(target), "tools/call") = (target, method.as_str()) {
            let acc = tools.entry(target.clone()).or_default();
            acc.server = server.clone();
            acc.add(bucket, n, *duration_us, failed);
        }
    }
    let finish = |m: BTreeMap<String, Acc>| {
        let mut v: Vec<Figures> = m
            .into_iter()
            .map(|(k, a)| a.finish(k, since_ms, bucket_ms))
            .collect();
        v.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.name.cmp(&b.name)));
        v
    };
    Stats {
        since_ms,
        window_ms,
        bucket_ms,
        servers: finish(servers),
        tools: finish(tools),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(quantile(&v, 0.5), 50);
        assert_eq!(quantile(&v, 0.95), 95);
        assert_eq!(quantile(&[7], 0.95), 7);
        assert_eq!(quantile(&[], 0.5), 0);
    }

    #[test]
    fn figures_per_server_and_tool_with_series() {
        let s = |ts, server: &str, tool: &str, outcome, us| -> Sample {
            (
                ts,
                Some(server.into()),
                Some(tool.into()),
                "tools/call".into(),
                outcome,
                us,
            )
        };
        let samples = vec![
            s(0, "a", "a__x", Outcome::Ok, 1000),
            s(10, "a", "a__x", Outcome::IsError, 3000),
            s(60, "a", "a__y", Outcome::Ok, 2000),
            s(70, "b", "b__z", Outcome::Timeout, 9000),
            (80, None, None, "tools/list".into(), Outcome::Ok, 10),
        ];
        let st = compute(&samples, 0, 100, 2);
        assert_eq!(st.bucket_ms, 50);
        let a = &st.servers[0];
        assert_eq!((a.name.as_str(), a.calls, a.errors), ("a", 3, 1));
        assert!((a.error_rate - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(a.p50_ms, 2.0);
        assert_eq!(a.p95_ms, 3.0);
        assert_eq!(a.series.iter().map(|p| p.calls).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(a.series[1].t_ms, 50);
        assert_eq!(st.tools[0].name, "a__x");
        assert_eq!(st.tools[0].calls, 2);
        assert_eq!(st.tools.len(), 3);
        assert_eq!(st.servers[1].error_rate, 1.0);
    }
}
