//! Bulk import of people and spaces from CSV (UTF-8, RFC 4180).
//!
//! An import is all or nothing: the whole file is parsed and every row checked here before the
//! server writes anything, and a rejected file comes back with every bad line named (the first
//! [`MAX_REPORTED_ERRORS`] of them, plus the total), so an admin fixes the file once rather than
//! once per error. Line numbers are the file's physical lines (the header is line 1), which is
//! what a spreadsheet or editor shows; a quoted field spanning lines reports the line it starts on.
//!
//! This module owns the file's shape and the fields it can check alone (e-mail, names, roles,
//! paths). Checks that need the organisation's data — seats, unknown sites or groups, people
//! already present — are the server's, which reports them with the same [`RowError`] lines.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::error::DomainError;
use crate::identity::role::Role;
use crate::tenancy::{parse_email, parse_name};

/// Most data rows one file may hold; bigger directories are imported in several files.
pub const MAX_IMPORT_ROWS: usize = 100_000;
/// Most row errors listed in a rejection (the total is always given).
pub const MAX_REPORTED_ERRORS: usize = 100;
/// Deepest space path accepted (`Building/Floor/Room` is 3).
pub const MAX_PATH_DEPTH: usize = 32;
/// Longest employee number accepted, in characters.
pub const MAX_EMPLOYEE_NUMBER_CHARS: usize = 64;
/// Most labels or groups one cell may list.
pub const MAX_LIST_ITEMS: usize = 50;

/// One problem with one line of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Physical line in the file, 1-based (the header is line 1).
    pub line: u64,
    /// The column at fault, by its header name, when there is one.
    pub column: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {column}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Why a file was refused: nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRejected {
    /// The first [`MAX_REPORTED_ERRORS`] problems, in line order.
    pub errors: Vec<RowError>,
    /// How many problems there were in all.
    pub total_errors: usize,
}

impl fmt::Display for ImportRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nothing was imported: {} problem(s) in the file",
            self.total_errors
        )?;
        if let Some(first) = self.errors.first() {
            write!(f, "; the first is at {first}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportRejected {}

/// Collects row errors, keeping the first [`MAX_REPORTED_ERRORS`] and counting the rest.
#[derive(Debug, Default)]
pub struct RowErrors {
    errors: Vec<RowError>,
    total: usize,
}

impl RowErrors {
    /// Records one problem.
    pub fn push(&mut self, line: u64, column: Option<&str>, message: impl Into<String>) {
        self.total += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(RowError {
                line,
                column: column.map(str::to_owned),
                message: message.into(),
            });
        }
    }

    /// Records a field check that failed, with the check's own message.
    pub fn push_domain(&mut self, line: u64, column: &str, error: &DomainError) {
        self.push(line, Some(column), error.message.clone());
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// `Ok(value)` when nothing was recorded, otherwise the rejection (errors in line order).
    pub fn into_result<T>(mut self, value: T) -> Result<T, ImportRejected> {
        if self.total == 0 {
            return Ok(value);
        }
        self.errors.sort_by_key(|e| e.line);
        Err(ImportRejected {
            errors: self.errors,
            total_errors: self.total,
        })
    }
}

/// A column the file may carry.
struct Column {
    name: &'static str,
    required: bool,
}

/// One data row: its line and its cells by column (absent optional columns read as "").
struct Row<'a> {
    line: u64,
    cells: HashMap<&'static str, &'a str>,
}

impl Row<'_> {
    fn cell(&self, column: &str) -> &str {
        self.cells.get(column).copied().unwrap_or("").trim()
    }
}

/// Reads the header and every row, checking the file's shape: UTF-8, a header naming known
/// columns (any order, case-insensitive) and all required ones, the same number of cells on
/// every line, at least one and at most [`MAX_IMPORT_ROWS`] rows. `each` then checks a row's
/// fields.
fn read_rows<T>(
    bytes: &[u8],
    columns: &[Column],
    mut each: impl FnMut(&Row<'_>, &mut RowErrors) -> Option<T>,
) -> Result<Vec<T>, ImportRejected> {
    let mut errors = RowErrors::default();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(Ok(record)) => record,
        Some(Err(error)) => {
            errors.push(1, None, format!("the header cannot be read: {error}"));
            return errors.into_result(Vec::new());
        }
        None => {
            errors.push(
                1,
                None,
                "the file is empty: it needs a header line and rows",
            );
            return errors.into_result(Vec::new());
        }
    };
    let Some(layout) = read_header(&header, columns, &mut errors) else {
        return errors.into_result(Vec::new());
    };
    let mut lines = LineCounter::new(bytes);
    let mut out = Vec::new();
    let mut rows = 0usize;
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| lines.line_at(p.byte()));
                errors.push(line, None, format!("not valid CSV: {error}"));
                // The reader cannot resynchronise after a broken quote; stop here.
                break;
            }
        };
        let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
        if record
            .iter()
            .all(|cell| cell.iter().all(u8::is_ascii_whitespace))
        {
            continue; // blank lines (often a trailing one) are not rows
        }
        rows += 1;
        if rows > MAX_IMPORT_ROWS {
            errors.push(
                line,
                None,
                format!(
                    "the file has more than {MAX_IMPORT_ROWS} rows; split it into several files"
                ),
            );
            break;
        }
        if record.len() != layout.len() {
            errors.push(
                line,
                None,
                format!(
                    "this line has {} cells but the header has {}; quote cells that contain commas",
                    record.len(),
                    layout.len()
                ),
            );
            continue;
        }
        let mut cells = HashMap::with_capacity(layout.len());
        let mut readable = true;
        for (column, cell) in layout.iter().zip(record.iter()) {
            match std::str::from_utf8(cell) {
                // No column takes multi-line text, and a line break inside a cell is almost
                // always an unclosed quote swallowing the lines after it.
                Ok(text) if text.contains(['\n', '\r']) => {
                    errors.push(
                        line,
                        Some(column),
                        "this cell runs over several lines; check for a quote (\") left open",
                    );
                    readable = false;
                }
                Ok(text) => {
                    cells.insert(*column, text);
                }
                Err(_) => {
                    errors.push(line, Some(column), "not UTF-8 text: save the file as UTF-8");
                    readable = false;
                }
            }
        }
        if readable && let Some(value) = each(&Row { line, cells }, &mut errors) {
            out.push(value);
        }
    }
    if rows == 0 && errors.is_empty() {
        errors.push(1, None, "the file has a header but no rows");
    }
    errors.into_result(out)
}

/// Turns byte offsets into physical line numbers. The CSV reader's own line numbers do not count
/// CRLF line ends the way editors do (files saved by Excel use CRLF), so lines are counted here:
/// `\n`, `\r\n` and a lone `\r` each end a line. Offsets must be asked in increasing order,
/// which is the order records arrive in, so the whole file is scanned once.
struct LineCounter<'a> {
    bytes: &'a [u8],
    scanned_to: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            scanned_to: 0,
            line: 1,
        }
    }

    /// The 1-based line on which the record starting at byte `offset` lies. The reader reports
    /// a record as starting where it began reading, before any blank lines it skipped, so those
    /// are stepped over first.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while matches!(self.bytes.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        if let Some(span) = self.bytes.get(self.scanned_to..offset) {
            let mut previous_was_cr = self
                .scanned_to
                .checked_sub(1)
                .and_then(|i| self.bytes.get(i))
                == Some(&b'\r');
            for &byte in span {
                match byte {
                    b'\n' if previous_was_cr => {}
                    b'\n' | b'\r' => self.line += 1,
                    _ => {}
                }
                previous_was_cr = byte == b'\r';
            }
            self.scanned_to = offset;
        }
        self.line
    }
}

/// Maps header cells to known columns; `None` (with errors recorded) when the header is wrong.
fn read_header(
    header: &csv::ByteRecord,
    columns: &[Column],
    errors: &mut RowErrors,
) -> Option<Vec<&'static str>> {
    let mut layout = Vec::with_capacity(header.len());
    for cell in header.iter() {
        let name = String::from_utf8_lossy(cell).trim().to_ascii_lowercase();
        match columns.iter().find(|c| c.name == name) {
            Some(column) if layout.contains(&column.name) => {
                errors.push(1, None, format!("the column {name:?} appears twice"));
            }
            Some(column) => layout.push(column.name),
            None => {
                let known: Vec<&str> = columns.iter().map(|c| c.name).collect();
                errors.push(
                    1,
                    None,
                    format!(
                        "unknown column {name:?}; the columns are: {}",
                        known.join(", ")
                    ),
                );
            }
        }
    }
    for column in columns.iter().filter(|c| c.required) {
        if !layout.contains(&column.name) {
            errors.push(
                1,
                None,
                format!("the required column {:?} is missing", column.name),
            );
        }
    }
    errors.is_empty().then_some(layout)
}

/// Splits a `;`-separated list cell (labels, groups), trimming items and dropping empty ones and
/// repeats, keeping the first spelling.
fn split_list(
    row: &Row<'_>,
    column: &str,
    what: &'static str,
    errors: &mut RowErrors,
) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for item in row.cell(column).split(';') {
        let item = item.trim();
        if item.is_empty() || items.iter().any(|seen| seen == item) {
            continue;
        }
        match parse_name(what, item) {
            Ok(item) => items.push(item),
            Err(error) => errors.push_domain(row.line, column, &error),
        }
    }
    if items.len() > MAX_LIST_ITEMS {
        errors.push(
            row.line,
            Some(column),
            format!("at most {MAX_LIST_ITEMS} {what}s per row"),
        );
    }
    items
}

/// One person to invite, as read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Line in the file, for errors found later.
    pub line: u64,
    /// Where the invitation goes (domain lower-cased).
    pub email: String,
    /// Name shown in the console.
    pub display_name: String,
    /// `member` (default) or `org_admin`.
    pub role: Role,
    /// The organisation's own staff number, if it uses them.
    pub employee_number: Option<String>,
    /// Free-form labels.
    pub labels: Vec<String>,
    /// Names of existing groups to join.
    pub groups: Vec<String>,
}

/// Columns of a people file.
const PEOPLE_COLUMNS: &[Column] = &[
    Column {
        name: "email",
        required: true,
    },
    Column {
        name: "display_name",
        required: true,
    },
    Column {
        name: "role",
        required: false,
    },
    Column {
        name: "employee_number",
        required: false,
    },
    Column {
        name: "labels",
        required: false,
    },
    Column {
        name: "groups",
        required: false,
    },
];

/// Reads a people file: header `email,display_name[,role,employee_number,labels,groups]`.
/// Roles that need more than a name (space managers need their spaces, guests an end date) are
/// assigned after the import, so only `member` and `org_admin` are accepted here. An e-mail
/// address or employee number listed twice is an error on its second line.
pub fn parse_people_csv(bytes: &[u8]) -> Result<Vec<PersonRow>, ImportRejected> {
    let mut first_line_of_email: HashMap<String, u64> = HashMap::new();
    let mut first_line_of_number: HashMap<String, u64> = HashMap::new();
    read_rows(bytes, PEOPLE_COLUMNS, |row, errors| {
        let before = errors.total;
        let email = parse_email("email", row.cell("email"))
            .map_err(|e| errors.push_domain(row.line, "email", &e))
            .ok();
        let display_name = parse_name("display_name", row.cell("display_name"))
            .map_err(|e| errors.push_domain(row.line, "display_name", &e))
            .ok();
        let role = match row.cell("role") {
            "" => Some(Role::Member),
            raw => match Role::parse(&raw.to_ascii_lowercase()) {
                Some(role @ (Role::Member | Role::OrgAdmin)) => Some(role),
                _ => {
                    errors.push(
                        row.line,
                        Some("role"),
                        format!(
                            "role {raw:?} cannot be imported; use member or org_admin, and give \
                             other roles (which need spaces or an end date) after the import"
                        ),
                    );
                    None
                }
            },
        };
        let employee_number = match row.cell("employee_number") {
            "" => None,
            raw if raw.chars().count() > MAX_EMPLOYEE_NUMBER_CHARS
                || raw.chars().any(char::is_control) =>
            {
                errors.push(
                    row.line,
                    Some("employee_number"),
                    format!(
                        "employee_number must be at most {MAX_EMPLOYEE_NUMBER_CHARS} characters \
                         without control characters"
                    ),
                );
                None
            }
            raw => Some(raw.to_owned()),
        };
        let labels = split_list(row, "labels", "label", errors);
        let groups = split_list(row, "groups", "group", errors);
        if let Some(email) = &email {
            // Addresses compare case-insensitively for duplicates, as sign-in does.
            let key = email.to_lowercase();
            if let Some(first) = first_line_of_email.get(&key) {
                errors.push(
                    row.line,
                    Some("email"),
                    format!("{email} is already on line {first}"),
                );
            } else {
                first_line_of_email.insert(key, row.line);
            }
        }
        if let Some(number) = &employee_number {
            if let Some(first) = first_line_of_number.get(number) {
                errors.push(
                    row.line,
                    Some("employee_number"),
                    format!("employee number {number} is already on line {first}"),
                );
            } else {
                first_line_of_number.insert(number.clone(), row.line);
            }
        }
        if errors.total != before {
            return None;
        }
        Some(PersonRow {
            line: row.line,
            email: email?,
            display_name: display_name?,
            role: role?,
            employee_number,
            labels,
            groups,
        })
    })
}

/// One space to create, as read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceRow {
    /// Line in the file, for errors found later.
    pub line: u64,
    /// Name of an existing site of the organisation.
    pub site: String,
    /// Names from the top of the site's tree down to this space; missing ancestors are created
    /// (with no kind) unless another row names them.
    pub path: Vec<String>,
    /// Free kind label of the last space in the path (building, floor, room, …), may be empty.
    pub kind: String,
    /// Free-form labels of the last space in the path.
    pub labels: Vec<String>,
}

/// Columns of a spaces file.
const SPACE_COLUMNS: &[Column] = &[
    Column {
        name: "site",
        required: true,
    },
    Column {
        name: "path",
        required: true,
    },
    Column {
        name: "kind",
        required: false,
    },
    Column {
        name: "labels",
        required: false,
    },
];

/// Reads a spaces file: header `site,path[,kind,labels]`, where `path` is the space's place in
/// the site's tree with `/` between levels (`Main building/3F/Room 301`). The same path twice in
/// one site is an error on its second line.
pub fn parse_spaces_csv(bytes: &[u8]) -> Result<Vec<SpaceRow>, ImportRejected> {
    let mut first_line_of_path: HashMap<(String, Vec<String>), u64> = HashMap::new();
    read_rows(bytes, SPACE_COLUMNS, |row, errors| {
        let before = errors.total;
        let site = parse_name("site", row.cell("site"))
            .map_err(|e| errors.push_domain(row.line, "site", &e))
            .ok();
        let mut path = Vec::new();
        for segment in row.cell("path").split('/') {
            match parse_name("path", segment) {
                Ok(name) => path.push(name),
                Err(_) => {
                    errors.push(
                        row.line,
                        Some("path"),
                        "path must be space names separated by /, none of them empty \
                         (e.g. Main building/3F/Room 301)",
                    );
                    break;
                }
            }
        }
        if path.len() > MAX_PATH_DEPTH {
            errors.push(
                row.line,
                Some("path"),
                format!("path may be at most {MAX_PATH_DEPTH} levels deep"),
            );
        }
        let kind = match row.cell("kind") {
            "" => String::new(),
            raw => parse_name("kind", raw)
                .map_err(|e| errors.push_domain(row.line, "kind", &e))
                .unwrap_or_default(),
        };
        let labels = split_list(row, "labels", "label", errors);
        if let Some(site) = &site
            && errors.total == before
        {
            let key = (site.clone(), path.clone());
            if let Some(first) = first_line_of_path.get(&key) {
                errors.push(
                    row.line,
                    Some("path"),
                    format!("this space is already on line {first}"),
                );
            } else {
                first_line_of_path.insert(key, row.line);
            }
        }
        if errors.total != before {
            return None;
        }
        Some(SpaceRow {
            line: row.line,
            site: site?,
            path,
            kind,
            labels,
        })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn lines(rejected: &ImportRejected) -> Vec<u64> {
        rejected.errors.iter().map(|e| e.line).collect()
    }

    #[test]
    fn a_people_file_reads_into_rows_with_their_lines() {
        let file = "\u{feff}Email,Display_Name,role,employee_number,labels,groups\r\n\
                    ada@Example.COM,Ada Lovelace,org_admin,E-1,\"night; reception\",Staff\r\n\
                    \r\n\
                    bob@example.com,\"Bob, Jr.\",,,,\r\n";
        let rows = parse_people_csv(file.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].email, "ada@example.com");
        assert_eq!(rows[0].role, Role::OrgAdmin);
        assert_eq!(rows[0].employee_number.as_deref(), Some("E-1"));
        assert_eq!(rows[0].labels, ["night", "reception"]);
        assert_eq!(rows[0].groups, ["Staff"]);
        assert_eq!(
            rows[1].line, 4,
            "the blank line 3 is skipped but still counted"
        );
        assert_eq!(rows[1].display_name, "Bob, Jr.");
        assert_eq!(rows[1].role, Role::Member);
    }

    #[test]
    fn a_bad_row_at_line_9999_rejects_the_whole_file_and_names_the_line() {
        let mut file = String::from("email,display_name\n");
        for n in 2..=10_000u32 {
            if n == 9_999 {
                file.push_str("not-an-address,Someone\n");
            } else {
                file.push_str(&format!("person{n}@example.com,Person {n}\n"));
            }
        }
        let rejected = parse_people_csv(file.as_bytes()).unwrap_err();
        assert_eq!(rejected.total_errors, 1);
        assert_eq!(rejected.errors[0].line, 9_999);
        assert_eq!(rejected.errors[0].column.as_deref(), Some("email"));
        assert!(rejected.to_string().contains("line 9999"), "{rejected}");
    }

    #[test]
    fn lines_are_counted_like_an_editor_with_any_line_ends() {
        for end in ["\n", "\r\n", "\r"] {
            let file = ["site,path", "HQ,A", "", "HQ,\"B", "still B\"", "HQ,"].join(end);
            let rejected = parse_spaces_csv(file.as_bytes()).unwrap_err();
            // Line 4 starts a quoted cell with a line break in it (no column takes one);
            // line 6 has an empty path.
            assert_eq!(lines(&rejected), [4, 6], "line ends {end:?}");
        }
    }

    #[test]
    fn every_bad_line_is_reported_in_order() {
        let file = "email,display_name,role\n\
                    a@example.com,A,guest\n\
                    b@example.com,,member\n\
                    a@EXAMPLE.com,A again,\n\
                    c@example.com,C,member,extra\n";
        let rejected = parse_people_csv(file.as_bytes()).unwrap_err();
        assert_eq!(lines(&rejected), [2, 3, 4, 5]);
        assert!(rejected.errors[0].message.contains("cannot be imported"));
        assert!(rejected.errors[2].message.contains("already on line 2"));
        assert!(
            rejected.errors[3]
                .message
                .contains("4 cells but the header has 3")
        );
    }

    #[test]
    fn the_header_must_name_known_and_required_columns() {
        let rejected = parse_people_csv(b"email,name\nx@example.com,X\n").unwrap_err();
        let messages: Vec<&str> = rejected.errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            messages[0].contains("unknown column \"name\""),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("\"display_name\" is missing"),
            "{messages:?}"
        );
        assert!(
            parse_people_csv(b"").unwrap_err().errors[0]
                .message
                .contains("empty")
        );
        assert!(
            parse_people_csv(b"email,display_name\n")
                .unwrap_err()
                .errors[0]
                .message
                .contains("no rows")
        );
        let twice = parse_people_csv(b"email,email,display_name\n").unwrap_err();
        assert!(twice.errors[0].message.contains("appears twice"));
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_with_its_line() {
        let mut file = b"email,display_name\nok@example.com,Ok\nlatin@example.com,Jos".to_vec();
        file.push(0xE9); // "é" in Latin-1
        file.push(b'\n');
        let rejected = parse_people_csv(&file).unwrap_err();
        assert_eq!(rejected.errors[0].line, 3);
        assert!(rejected.errors[0].message.contains("UTF-8"));
    }

    #[test]
    fn too_many_rows_are_refused() {
        let mut file = String::from("site,path\n");
        for n in 0..=MAX_IMPORT_ROWS {
            file.push_str(&format!("HQ,Room {n}\n"));
        }
        let rejected = parse_spaces_csv(file.as_bytes()).unwrap_err();
        assert_eq!(rejected.total_errors, 1);
        assert!(rejected.errors[0].message.contains("split it"));
    }

    #[test]
    fn a_spaces_file_reads_paths_and_refuses_repeats_and_empty_levels() {
        let rows = parse_spaces_csv(
            b"site,path,kind,labels\nHQ,Main / 3F / Room 301,room,quiet\nHQ,Main,building,\n",
        )
        .unwrap();
        assert_eq!(rows[0].path, ["Main", "3F", "Room 301"]);
        assert_eq!(rows[0].kind, "room");
        assert_eq!(rows[1].path, ["Main"]);
        let rejected =
            parse_spaces_csv(b"site,path\nHQ,Main//Room\nHQ,Main/3F\nHQ,Main/3F\nAnnex,Main/3F\n")
                .unwrap_err();
        assert_eq!(lines(&rejected), [2, 4]);
        assert!(rejected.errors[1].message.contains("already on line 3"));
    }

    #[test]
    fn a_broken_quote_is_reported_not_swallowed() {
        let rejected = parse_spaces_csv(b"site,path\nHQ,\"Main\nHQ,Other\n").unwrap_err();
        assert_eq!(lines(&rejected), [2]);
        assert_eq!(rejected.errors[0].column.as_deref(), Some("path"));
        assert!(
            rejected.errors[0].message.contains("left open"),
            "{rejected:?}"
        );
    }

    #[test]
    fn reported_errors_are_capped_but_counted() {
        let mut file = String::from("email,display_name\n");
        for _ in 0..250 {
            file.push_str("bad,Someone\n");
        }
        let rejected = parse_people_csv(file.as_bytes()).unwrap_err();
        assert_eq!(rejected.total_errors, 250);
        assert_eq!(rejected.errors.len(), MAX_REPORTED_ERRORS);
    }

    proptest! {
        /// No input makes the parsers panic; whatever they accept has a row per line they name.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_people_csv(&bytes);
            let _ = parse_spaces_csv(&bytes);
        }

        /// Valid people written out as CSV (with quoting) read back as the same rows.
        #[test]
        fn written_people_read_back(names in proptest::collection::vec("[A-Za-z][A-Za-z ,\"]{0,20}[A-Za-z]", 1..30)) {
            let mut file = String::from("email,display_name\n");
            for (n, name) in names.iter().enumerate() {
                file.push_str(&format!("p{n}@example.com,\"{}\"\n", name.replace('"', "\"\"")));
            }
            let rows = parse_people_csv(file.as_bytes()).unwrap();
            prop_assert_eq!(rows.len(), names.len());
            for (n, (row, name)) in rows.iter().zip(&names).enumerate() {
                prop_assert_eq!(&row.display_name, name.trim());
                prop_assert_eq!(row.line, n as u64 + 2);
            }
        }
    }
}
