//! The one place that calls `ruff_python_parser`. Everything ruff-specific stays inside
//! `crate::python`; the rest of the analyzer sees facts and sites, never ruff's AST.

use ruff_python_ast::ModModule;
use ruff_python_parser::{Mode, ParseOptions, Parsed};
use ruff_source_file::LineIndex;
use ruff_text_size::{TextRange, TextSize};

/// A syntax error, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxErrorInfo {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// A parsed module with what is needed to turn offsets into lines and columns.
pub struct ParsedModule<'src> {
    pub(crate) source: &'src str,
    pub(crate) parsed: Parsed<ModModule>,
    pub(crate) lines: LineIndex,
}

impl<'src> ParsedModule<'src> {
    /// Parses with error recovery: a module with syntax errors still has an AST for the parts
    /// that parsed.
    pub fn parse(source: &'src str) -> Self {
        let parsed = ruff_python_parser::parse_unchecked(source, ParseOptions::from(Mode::Module))
            .try_into_module()
            .expect("Mode::Module always yields a module");
        let lines = LineIndex::from_source_text(source);
        ParsedModule {
            source,
            parsed,
            lines,
        }
    }

    pub fn syntax_errors(&self) -> Vec<SyntaxErrorInfo> {
        self.parsed
            .errors()
            .iter()
            .map(|e| {
                let (line, column) = self.line_column(e.location.start());
                SyntaxErrorInfo {
                    line,
                    column,
                    message: e.error.to_string(),
                }
            })
            .collect()
    }

    pub fn line_count(&self) -> u32 {
        self.lines.line_count() as u32
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_column(&self, offset: TextSize) -> (u32, u32) {
        let offset = offset.min(TextSize::of(self.source));
        let lc = self.lines.line_column(offset, self.source);
        (lc.line.get() as u32, lc.column.get() as u32)
    }

    /// The full text of the lines a range covers (at most 3), for report snippets.
    pub(crate) fn snippet(&self, range: TextRange) -> String {
        let first = self
            .lines
            .line_index(range.start().min(TextSize::of(self.source)));
        let last = self
            .lines
            .line_index(range.end().min(TextSize::of(self.source)));
        let last = if last.get() > first.get() + 2 {
            first.saturating_add(2)
        } else {
            last
        };
        let start = self.lines.line_start(first, self.source);
        let end = self.lines.line_end(last, self.source);
        self.source[TextRange::new(start, end)]
            .trim_end()
            .to_string()
    }
}
