//! The API describing itself: the OpenAPI document and the metrics.

use crate::errors::{ApiError, ErrorBody};
use crate::metrics::METRICS_CONTENT_TYPE;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub(crate) async fn openapi(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], state.openapi_json.as_str().to_owned()).into_response()
}

/// The node's metrics in Prometheus (OpenMetrics) text format.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses(
        (status = 200, description = "Metrics, OpenMetrics text", body = String,
            content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (status = 500, description = "Encoding failed", body = ErrorBody),
    ))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    match state.api.metrics().encode() {
        Ok(text) => ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response(),
        Err(_) => ApiError::internal("cannot encode metrics").into_response(),
    }
}
