//! JSON Schema validation of X-ARF reports (the `jsonschema` crate, formats asserted).
//!
//! The validators are compiled once, on first use, from the embedded schemas; no schema is
//! ever fetched. Violations become [`Problem`]s: for `anyOf`/`oneOf` failures we descend
//! into the branch that best matches the report (the one whose discriminating fields -
//! version, class/category, type - match) so the operator reads "`/Report/Date`: not a
//! date-time" rather than "not valid under any of the schemas".
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::Value;

use super::embedded;
use crate::model::Problem;

/// At most this many problems are listed for one report.
pub(crate) const MAX_PROBLEMS: usize = 50;
/// Messages are cut to this many characters (a failing `anyOf` quotes the whole instance).
const MAX_MESSAGE_CHARS: usize = 240;

const V3_ROOT: &str =
    "https://raw.githubusercontent.com/xarf/schema-discussion/master/xarf.schema.json";
const V4_ROOT: &str = "https://xarf.org/schemas/v4/xarf-v4-master.json";

/// Instance locations whose mismatch means "this branch is for another report type".
const V3_DISCRIMINATORS: &[&str] = &["/Version", "/Report/ReportClass", "/Report/ReportType"];
const V4_DISCRIMINATORS: &[&str] = &["/xarf_version", "/category", "/type"];

type Compiled = Result<Validator, String>;

static V3: OnceLock<Compiled> = OnceLock::new();
static V4: OnceLock<Compiled> = OnceLock::new();

fn compile(docs: &[&str], root: &str, draft: Draft) -> Compiled {
    let mut resources = Vec::with_capacity(docs.len());
    let mut root_doc = None;
    for text in docs {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("embedded schema: {e}"))?;
        let id = doc
            .get("$id")
            .and_then(Value::as_str)
            .ok_or_else(|| "embedded schema without $id".to_owned())?
            .to_owned();
        if id == root {
            root_doc = Some(doc.clone());
        }
        resources.push((id, doc));
    }
    let root_doc = root_doc.ok_or_else(|| format!("embedded schemas lack {root}"))?;
    let registry = jsonschema::Registry::new()
        .draft(draft)
        .extend(resources)
        .and_then(|b| b.prepare())
        .map_err(|e| format!("schema registry: {e}"))?;
    jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&root_doc)
        .map_err(|e| format!("schema compilation: {e}"))
}

fn v3() -> &'static Compiled {
    V3.get_or_init(|| compile(embedded::V3, V3_ROOT, Draft::Draft7))
}

fn v4() -> &'static Compiled {
    V4.get_or_init(|| compile(embedded::V4, V4_ROOT, Draft::Draft202012))
}

/// Validate against the XARF v3 super-schema (every v3-family version, as upstream's test).
pub(crate) fn validate_v3(instance: &Value) -> Vec<Problem> {
    validate(v3(), instance, V3_DISCRIMINATORS)
}

/// Validate against the XARF v4 master schema.
pub(crate) fn validate_v4(instance: &Value) -> Vec<Problem> {
    validate(v4(), instance, V4_DISCRIMINATORS)
}

/// Compile both validators now (the first report otherwise pays for it).
pub(crate) fn warm_up() -> Result<(), String> {
    v3().as_ref().map_err(Clone::clone)?;
    v4().as_ref().map_err(Clone::clone)?;
    Ok(())
}

fn validate(compiled: &Compiled, instance: &Value, discriminators: &[&str]) -> Vec<Problem> {
    let validator = match compiled {
        Ok(v) => v,
        Err(e) => {
            return vec![Problem {
                location: String::new(),
                schema_path: None,
                message: format!("the report could not be validated: {e}"),
            }];
        }
    };
    if validator.is_valid(instance) {
        return Vec::new();
    }
    let mut problems = Vec::new();
    for error in validator.iter_errors(instance) {
        leaves(&error, discriminators, &mut problems, 0);
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
    }
    // The same subschema can be reached twice (core via master and via the type schema).
    let mut unique: Vec<Problem> = Vec::with_capacity(problems.len());
    for p in problems {
        if !unique.contains(&p) {
            unique.push(p);
        }
    }
    unique.truncate(MAX_PROBLEMS);
    unique
}

fn branches<'e>(error: &'e ValidationError<'_>) -> Option<&'e [Vec<ValidationError<'static>>]> {
    match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            if context.is_empty() {
                None
            } else {
                Some(context)
            }
        }
        _ => None,
    }
}

/// Flatten one error into the problems of its best-matching branch. Returns true when no
/// branch fitted (the problem pushed is then "matches no report schema"), which makes the
/// enclosing branch a poor match too.
fn leaves(
    error: &ValidationError<'_>,
    discriminators: &[&str],
    out: &mut Vec<Problem>,
    depth: usize,
) -> bool {
    if depth < 16
        && let Some(context) = branches(error)
    {
        let mut best: Option<(bool, usize, Vec<Problem>)> = None;
        for branch in context {
            let mut flat = Vec::new();
            let mut collapsed = false;
            for e in branch {
                collapsed |= leaves(e, discriminators, &mut flat, depth + 1);
            }
            let off_target = collapsed
                || flat
                    .iter()
                    .any(|p| discriminators.iter().any(|d| p.location == *d));
            let better = match &best {
                None => true,
                Some((b_off, b_len, _)) => (off_target, flat.len()) < (*b_off, *b_len),
            };
            if better {
                best = Some((off_target, flat.len(), flat));
            }
        }
        if let Some((false, _, flat)) = best
            && !flat.is_empty()
        {
            out.extend(flat);
            return false;
        }
        // No branch is for this report's type/version: say so once, at this level.
        out.push(Problem {
            location: error.instance_path().to_string(),
            schema_path: Some(error.schema_path().to_string()),
            message: no_branch_message(error, discriminators),
        });
        return true;
    }
    out.push(problem(error));
    false
}

fn no_branch_message(error: &ValidationError<'_>, discriminators: &[&str]) -> String {
    let names: Vec<&str> = discriminators
        .iter()
        .map(|d| d.rsplit('/').next().unwrap_or(d))
        .collect();
    format!(
        "matches no report schema: no schema accepts this combination of {}",
        names.join(", ")
    ) + &match error.instance_path().to_string().as_str() {
        "" => String::new(),
        path => format!(" (at {path})"),
    }
}

fn problem(error: &ValidationError<'_>) -> Problem {
    Problem {
        location: error.instance_path().to_string(),
        schema_path: Some(error.schema_path().to_string()),
        message: cut(error.to_string()),
    }
}

fn cut(mut message: String) -> String {
    if let Some((idx, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(idx);
        message.push('…');
    }
    message
}
