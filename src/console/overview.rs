//! The tenant's home: the estate at a glance. Counts of the live secrets by
//! state, each linking to the inventory filtered to it, and expirations per week
//! for the next 12 weeks as a server-rendered SVG bar chart (no script) with a
//! table as its text equivalent. The figures are `GET …/SecretSummary`'s.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::frame::frame;
use super::respond::{failure, render};
use super::session::Signed;
use super::view::Layout;
use crate::domain::summary::{
    MONTH_DAYS, PRESENTED_DAYS, SOON_DAYS, SecretSummary, SummaryWindows, WEEKS,
};
use crate::web::AppState;

/// One count, with the inventory filter that lists its secrets.
pub struct Figure {
    pub id: &'static str,
    pub label: String,
    pub count: i64,
    pub href: String,
    /// Worth attention when non-zero (leaked, presented after rotation, expired).
    pub warn: bool,
}

/// One bar of the chart: geometry in the SVG's own units.
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    pub count: i64,
    /// DD/MM of the week's first day.
    pub label: String,
    /// The week in words, for the bar's `<title>` and the table.
    pub week: String,
}

/// The chart's viewBox width and height, and the bars' room.
pub const CHART_WIDTH: u32 = 600;
pub const CHART_HEIGHT: u32 = 200;
const PLOT_TOP: u32 = 20;
const PLOT_BOTTOM: u32 = 170;
const SLOT: u32 = CHART_WIDTH / WEEKS as u32;
pub const BAR_WIDTH: u32 = SLOT * 3 / 5;

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    layout: Layout,
    figures: Vec<Figure>,
    bars: Vec<Bar>,
    total_expiring: i64,
    chart_width: u32,
    chart_height: u32,
    bar_width: u32,
    baseline: u32,
}

pub async fn overview(
    State(state): State<AppState>,
    s: Signed,
    Path(tenant): Path<String>,
) -> Response {
    let (t, layout) = match frame(&state, &s, &tenant, "Overview", "overview").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (windows, summary) = match state.services.secrets.summary(&s.0.caller(), &t.id).await {
        Ok(found) => found,
        Err(e) => return failure(e, layout),
    };
    let inventory = format!("/console/tenants/{}/inventory", t.id);
    render(
        StatusCode::OK,
        &OverviewPage {
            layout,
            figures: figures(&summary, &inventory),
            total_expiring: summary.expirations_per_week.iter().sum(),
            bars: bars(&windows, &summary),
            chart_width: CHART_WIDTH,
            chart_height: CHART_HEIGHT,
            bar_width: BAR_WIDTH,
            baseline: PLOT_BOTTOM,
        },
    )
}

fn figures(s: &SecretSummary, inventory: &str) -> Vec<Figure> {
    let figure = |id, label: String, count, query: String, warn| Figure {
        id,
        label,
        count,
        href: format!("{inventory}?{query}"),
        warn: warn && count > 0,
    };
    vec![
        figure(
            "sum-active",
            "Active".into(),
            s.active,
            "status=active".into(),
            false,
        ),
        figure(
            "sum-soon",
            format!("Expiring within {SOON_DAYS} days"),
            s.expiring_soon,
            format!("expiring_within={SOON_DAYS}"),
            true,
        ),
        figure(
            "sum-month",
            format!("Expiring within {MONTH_DAYS} days"),
            s.expiring_this_month,
            format!("expiring_within={MONTH_DAYS}"),
            false,
        ),
        figure(
            "sum-expired",
            "Expired".into(),
            s.expired,
            "status=expired".into(),
            true,
        ),
        figure(
            "sum-never",
            "Never used".into(),
            s.never_used,
            "never_used=on".into(),
            false,
        ),
        figure(
            "sum-leaked",
            "Leaked, not rotated".into(),
            s.leaked,
            "status=leaked".into(),
            true,
        ),
        figure(
            "sum-presented",
            format!("Old value presented in the last {PRESENTED_DAYS} days"),
            s.presented_after_rotation,
            format!("refused_within={PRESENTED_DAYS}"),
            true,
        ),
    ]
}

/// Bars scaled to the busiest week (at least 1, so an empty chart is flat).
fn bars(w: &SummaryWindows, s: &SecretSummary) -> Vec<Bar> {
    let max = s
        .expirations_per_week
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let room = i64::from(PLOT_BOTTOM - PLOT_TOP);
    w.weeks
        .windows(2)
        .zip(s.expirations_per_week)
        .enumerate()
        .map(|(i, (week, count))| {
            let height = u32::try_from(count.max(0) * room / max).unwrap_or(0);
            Bar {
                x: u32::try_from(i).unwrap_or(0) * SLOT + (SLOT - BAR_WIDTH) / 2,
                y: PLOT_BOTTOM - height,
                height,
                count,
                label: week[0].format("%d/%m").to_string(),
                week: format!(
                    "{} UTC to {} UTC",
                    week[0].format("%d/%m/%Y"),
                    week[1].format("%d/%m/%Y")
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    #[test]
    fn bars_scale_to_the_busiest_week_and_stay_in_the_plot() {
        let now: DateTime<Utc> = "2026-12-03T00:00:00Z".parse().unwrap();
        let w = SummaryWindows::at(now);
        let mut s = SecretSummary::default();
        s.expirations_per_week[0] = 2;
        s.expirations_per_week[3] = 8;
        let bars = bars(&w, &s);
        assert_eq!(bars.len(), WEEKS);
        assert_eq!(
            bars[3].height,
            PLOT_BOTTOM - PLOT_TOP,
            "the busiest is full height"
        );
        assert_eq!(bars[0].height, (PLOT_BOTTOM - PLOT_TOP) / 4);
        assert_eq!(bars[1].height, 0);
        assert!(bars.iter().all(|b| b.y + b.height == PLOT_BOTTOM));
        assert!(bars.iter().all(|b| b.x + BAR_WIDTH <= CHART_WIDTH));
        assert_eq!(bars[0].label, "03/12");
        assert_eq!(bars[1].week, "10/12/2026 UTC to 17/12/2026 UTC");
        let empty = super::bars(&w, &SecretSummary::default());
        assert!(
            empty.iter().all(|b| b.height == 0),
            "no expirations: a flat chart"
        );
    }
}
