//! The OpenAPI document is a valid OpenAPI 3.1 document and lists exactly the routes the server serves.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every `$ref` in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push(x.as_str().expect("$ref is a string"));
                } else {
                    refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Structural checks of the OpenAPI 3.1 schema that matter for clients and generators.
fn check_openapi(doc: &Value) {
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "OpenAPI 3.1, got {version}");
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(doc["info"]["version"].as_str().is_some_and(|t| !t.is_empty()));
    let paths = doc["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        assert!(path.starts_with('/'), "{path}");
        let item = item.as_object().unwrap();
        let path_params: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        let mut has_op = false;
        for (method, op) in item {
            assert!(METHODS.contains(&method.as_str()) || method == "parameters", "{path}: {method}");
            if method == "parameters" {
                continue;
            }
            has_op = true;
            let responses =
                op["responses"].as_object().unwrap_or_else(|| panic!("{method} {path}: responses"));
            assert!(!responses.is_empty(), "{method} {path}: at least one response");
            for (status, r) in responses {
                assert!(
                    status == "default" || (status.len() == 3 && status.parse::<u16>().is_ok()),
                    "{method} {path}: status {status}"
                );
                assert!(r["description"].is_string(), "{method} {path} {status}: description");
            }
            if let Some(id) = op["operationId"].as_str() {
                assert!(operation_ids.insert(id.to_string()), "duplicate operationId {id}");
            }
            // Every templated segment is declared as a required path parameter, and nothing else is.
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .inspect(|p| assert_eq!(p["required"], true, "{path}: path params are required"))
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(declared, path_params, "{method} {path}: path parameters");
        }
        assert!(has_op, "{path} has no operation");
    }
    // Every reference resolves.
    let mut all = Vec::new();
    refs(doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("local schema ref: {r}"));
        assert!(doc["components"]["schemas"][name].is_object(), "unresolved {r}");
    }
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| METHODS.contains(&m.as_str()))
                .map(move |m| (m.to_string(), path.to_string()))
        })
        .collect()
}

#[test]
fn document_is_valid_and_matches_the_route_table() {
    let doc: Value = serde_json::from_str(&purse_rpc::openapi_json().unwrap()).unwrap();
    check_openapi(&doc);
    let routes: BTreeSet<(String, String)> =
        purse_rpc::ROUTES.iter().map(|r| (r.verb.as_lower().to_string(), r.path.to_string())).collect();
    assert_eq!(operations(&doc), routes);
    // The error body schema is published, and the key response types are described.
    for schema in [
        "ErrorBody",
        "NodeStatus",
        "SubmitTxResponse",
        "ValidateTxResponse",
        "TxInfo",
        "BlockInfo",
        "GovernanceInfo",
        "ProposalInfo",
        "GovernanceActionInfo",
        "RolesInfo",
        "AssetControlsInfo",
        "TierLimitsQueryInfo",
        "CodeAllowedInfo",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    // Fields that are `null` rather than absent are required (always present).
    for (schema, field) in [
        ("GovernanceInfo", "governance"),
        ("TierLimitsQueryInfo", "limits"),
        ("ProposalInfo", "closed_height"),
    ] {
        let required = doc["components"]["schemas"][schema]["required"].as_array().unwrap();
        assert!(required.iter().any(|f| f == field), "{schema}.{field} is required");
    }
    // The optional `holder` query parameter of the asset controls is documented.
    let params = doc["paths"]["/asset/{id}/controls"]["get"]["parameters"].as_array().unwrap();
    assert!(params.iter().any(|p| p["name"] == "holder" && p["in"] == "query" && p["required"] != true));
    let status = &doc["components"]["schemas"]["NodeStatus"]["properties"];
    for field in ["chain_id", "height", "latest_block_hash", "peers"] {
        assert!(status[field].is_object(), "NodeStatus.{field}");
    }
}

#[tokio::test]
async fn served_document_is_the_generated_one() {
    let s = start_default().await;
    let resp = reqwest::get(s.url("/openapi.json")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let served: Value = resp.json().await.unwrap();
    let generated: Value = serde_json::from_str(&purse_rpc::openapi_json().unwrap()).unwrap();
    assert_eq!(served, generated);
}

/// Responses of the running server match the schemas' required fields (a drift check between the model
/// types and what handlers emit).
#[tokio::test]
async fn responses_carry_the_documented_required_fields() {
    let s = start_default().await;
    s.node.commit();
    let doc: Value = serde_json::from_str(&purse_rpc::openapi_json().unwrap()).unwrap();
    let schemas = &doc["components"]["schemas"];
    for (path, schema) in [
        ("/status".to_string(), "NodeStatus"),
        ("/block/1".to_string(), "BlockInfo"),
        (format!("/account/{}", alice().public().address()), "AccountInfo"),
        ("/validators".to_string(), "ValidatorsInfo"),
        ("/evidence".to_string(), "EvidenceList"),
        (format!("/proof/{}", hex::encode(PROOF_KEY)), "StateProofInfo"),
        ("/governance".to_string(), "GovernanceInfo"),
        (format!("/proposal/{OPEN_PROPOSAL}"), "ProposalInfo"),
        (format!("/roles/{}", alice().public().address()), "RolesInfo"),
        (
            format!("/asset/{}/controls?holder={}", rules_asset().to_hex(), bob().public().address()),
            "AssetControlsInfo",
        ),
        (format!("/tier/2/limits/{}", rules_asset().to_hex()), "TierLimitsQueryInfo"),
        (format!("/code/{ALLOWED_CODE}/allowed"), "CodeAllowedInfo"),
        ("/nope".to_string(), "ErrorBody"),
    ] {
        let v: Value = reqwest::get(s.url(&path)).await.unwrap().json().await.unwrap();
        for field in schemas[schema]["required"].as_array().unwrap() {
            let f = field.as_str().unwrap();
            assert!(v.get(f).is_some(), "{path}: {schema}.{f} missing in {v}");
        }
    }
}
