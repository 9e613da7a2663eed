package ftrack

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// The query language subset the fake understands:
//
//	[select <path>, ... from] <Type> [where <criteria>]
//	    [order by <path> [asc|desc|ascending|descending], ...] [offset N] [limit N]
//
// criteria: and, or, not, parentheses; operators is / =, is_not / !=, >,
// after, greater_than, <, before, less_than, >=, <=, in, not_in, like,
// not_like, has (scalar relation), any (collection relation); values are
// quoted strings, numbers, true, false, None / null, bare words, and
// parenthesised lists. Paths follow relations with dots. Anything else is
// a parse error in the server's error shape.

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tNumber
	tPunct
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// lexer produces tokens one at a time, so an expression is scanned only as
// far as the parser gets: a million opening parentheses cost nothing past
// the depth limit.
type lexer struct {
	s   string
	i   int
	err error
}

// next returns the next token, or a tEOF token once the input or a lexical
// error ends the expression (err then holds the error).
func (l *lexer) next() token {
	if l.err != nil {
		return token{tEOF, "", len(l.s)}
	}
	s := l.s
	for l.i < len(s) && (s[l.i] == ' ' || s[l.i] == '\t' || s[l.i] == '\n' || s[l.i] == '\r') {
		l.i++
	}
	if l.i >= len(s) {
		return token{tEOF, "", len(s)}
	}
	i := l.i
	c := s[i]
	switch {
	case c == '"' || c == '\'':
		start := i
		i++
		var b strings.Builder
		for i < len(s) {
			if s[i] == '\\' && i+1 < len(s) {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			if s[i] == c {
				l.i = i + 1
				return token{tString, b.String(), start}
			}
			b.WriteByte(s[i])
			i++
		}
		l.err = fmt.Errorf("unterminated string starting at character %d", start)
		l.i = len(s)
		return token{tEOF, "", len(s)}
	case c == '(' || c == ')' || c == ',':
		l.i = i + 1
		return token{tPunct, string(c), i}
	case c == '=' || c == '!' || c == '<' || c == '>':
		start := i
		i++
		if i < len(s) && s[i] == '=' {
			i++
		}
		op := s[start:i]
		if op == "!" {
			l.err = fmt.Errorf("unexpected '!' at character %d", start)
			return token{tEOF, "", len(s)}
		}
		l.i = i
		return token{tPunct, op, start}
	case c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
		start := i
		i++
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		l.i = i
		return token{tNumber, s[start:i], start}
	case c == '_' || c < 0x80 && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))):
		// Words: names, dotted paths, keywords, and bare values such
		// as uuids, which the reference Python client sends unquoted
		// (location_id is 3a372bde-05bc-11e4-8908-20c9d081909b).
		start := i
		for i < len(s) && (s[i] == '_' || s[i] == '.' || s[i] == '-' || s[i] == ':' ||
			s[i] < 0x80 && (unicode.IsLetter(rune(s[i])) || unicode.IsDigit(rune(s[i])))) {
			i++
		}
		l.i = i
		w := s[start:i]
		if _, err := strconv.ParseFloat(w, 64); err == nil {
			return token{tNumber, w, start}
		}
		return token{tWord, w, start}
	}
	l.err = fmt.Errorf("unexpected character %q at %d", c, i)
	return token{tEOF, "", len(s)}
}

// query is a parsed expression.
type query struct {
	projections []string // nil: default projections
	entityType  string
	where       cond // nil: all
	order       []orderKey
	offset      int
	limit       int // -1: none
}

type orderKey struct {
	path string
	desc bool
}

// cond is a node of the criteria tree. And and or are n-ary, so a long
// chain of criteria is a flat list, not a deep tree.
type cond interface{ isCond() }

type andCond struct{ list []cond }
type orCond struct{ list []cond }
type notCond struct{ c cond }
type cmpCond struct {
	path string
	op   string // is, is_not, gt, lt, ge, le, in, not_in, like, not_like
	val  value
	// filled by checkCond: the attribute's kind and the literal(s)
	// converted to it once per query, not once per row.
	kind string
	lits []any
	set  map[any]bool // in / not_in over strings and integers
}
type relCond struct {
	path string
	op   string // has, any
	sub  cond   // nil: any entity
}

func (*andCond) isCond() {}
func (*orCond) isCond()  {}
func (*notCond) isCond() {}
func (*cmpCond) isCond() {}
func (*relCond) isCond() {}

// value is a literal: a string (quoted or bare word), a number, a bool,
// null, or a list of those.
type value struct {
	kind string // string, number, bool, null, list
	s    string
	n    float64
	b    bool
	list []value
}

// Parse limits: past them an expression is a ParseError, so no
// expression can exhaust the stack or hold the backend for long.
const (
	// DefaultMaxQueryDepth bounds the nesting of parentheses, not, has
	// and any.
	DefaultMaxQueryDepth = 64
	// DefaultMaxQueryTerms bounds the comparisons in one expression.
	DefaultMaxQueryTerms = 2000
	// DefaultMaxInValues bounds the values of one in / not_in list.
	DefaultMaxInValues = 10000
)

type parser struct {
	lex      *lexer
	cur      token
	depth    int
	terms    int
	maxDepth int
	maxTerms int
	maxIn    int
}

func (p *parser) peek() token { return p.cur }
func (p *parser) next() token {
	t := p.cur
	if t.kind != tEOF {
		p.cur = p.lex.next()
	}
	return t
}
func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tWord && strings.EqualFold(t.text, w)
}
func (p *parser) expectWord(w string) error {
	if !p.isWord(w) {
		return p.errf("expected %q", w)
	}
	p.next()
	return nil
}
func (p *parser) isPunct(s string) bool { t := p.peek(); return t.kind == tPunct && t.text == s }
func (p *parser) errf(format string, a ...any) error {
	if p.lex.err != nil {
		return p.lex.err
	}
	t := p.peek()
	near := t.text
	if t.kind == tEOF {
		near = "end of expression"
	}
	return fmt.Errorf(format+" at character %d (near %q)", append(a, t.pos, near)...)
}

// enter counts one level of nesting and refuses past the limit.
func (p *parser) enter() error {
	p.depth++
	if p.depth > p.maxDepth {
		return fmt.Errorf("expression nested deeper than %d levels at character %d", p.maxDepth, p.peek().pos)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseQuery parses an expression with the default limits. The error text
// is what the fake sends as the error's content.
func parseQuery(s string) (*query, error) {
	return parseQueryLimits(s, DefaultMaxQueryDepth, DefaultMaxQueryTerms, DefaultMaxInValues)
}

func parseQueryLimits(s string, maxDepth, maxTerms, maxIn int) (*query, error) {
	p := &parser{lex: &lexer{s: s}, maxDepth: maxDepth, maxTerms: maxTerms, maxIn: maxIn}
	p.cur = p.lex.next()
	q, err := p.parse()
	if err == nil && p.lex.err != nil {
		err = p.lex.err
	}
	return q, err
}

func (p *parser) parse() (*query, error) {
	q := &query{limit: -1}
	if p.isWord("select") {
		p.next()
		for {
			t := p.next()
			if t.kind != tWord {
				return nil, p.errf("expected an attribute name in select")
			}
			q.projections = append(q.projections, t.text)
			if p.isPunct(",") {
				p.next()
				continue
			}
			break
		}
		if err := p.expectWord("from"); err != nil {
			return nil, err
		}
	}
	t := p.next()
	if t.kind != tWord || strings.Contains(t.text, ".") {
		if p.lex.err != nil {
			return nil, p.lex.err
		}
		return nil, fmt.Errorf("expected an entity type at character %d", t.pos)
	}
	q.entityType = t.text
	if p.isWord("where") {
		p.next()
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		q.where = c
	}
	seen := map[string]bool{}
	for p.peek().kind != tEOF {
		switch {
		case p.isWord("order") && !seen["order"]:
			seen["order"] = true
			p.next()
			if err := p.expectWord("by"); err != nil {
				return nil, err
			}
			for {
				t := p.next()
				if t.kind != tWord {
					return nil, p.errf("expected an attribute to order by")
				}
				k := orderKey{path: t.text}
				switch {
				case p.isWord("desc"), p.isWord("descending"):
					p.next()
					k.desc = true
				case p.isWord("asc"), p.isWord("ascending"):
					p.next()
				}
				q.order = append(q.order, k)
				if p.isPunct(",") {
					p.next()
					continue
				}
				break
			}
		case (p.isWord("offset") || p.isWord("limit")) && !seen[strings.ToLower(p.peek().text)]:
			w := strings.ToLower(p.next().text)
			seen[w] = true
			t := p.next()
			n, err := strconv.Atoi(t.text)
			if t.kind != tNumber || err != nil || n < 0 {
				if p.lex.err != nil {
					return nil, p.lex.err
				}
				return nil, fmt.Errorf("%s needs a non-negative integer at character %d", w, t.pos)
			}
			if w == "offset" {
				q.offset = n
			} else {
				q.limit = n
			}
		default:
			return nil, p.errf("unexpected %q", p.peek().text)
		}
	}
	return q, nil
}

func (p *parser) parseOr() (cond, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	if !p.isWord("or") {
		return l, nil
	}
	list := []cond{l}
	for p.isWord("or") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return &orCond{list}, nil
}

func (p *parser) parseAnd() (cond, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	if !p.isWord("and") {
		return l, nil
	}
	list := []cond{l}
	for p.isWord("and") {
		p.next()
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return &andCond{list}, nil
}

var opWords = map[string]string{
	"is": "is", "=": "is", "is_not": "is_not", "!=": "is_not",
	">": "gt", "after": "gt", "greater_than": "gt",
	"<": "lt", "before": "lt", "less_than": "lt",
	">=": "ge", "<=": "le",
	"in": "in", "not_in": "not_in", "like": "like", "not_like": "not_like",
	"has": "has", "any": "any",
}

func (p *parser) parseUnary() (cond, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.isWord("not") {
		p.next()
		c, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &notCond{c}, nil
	}
	if p.isPunct("(") {
		p.next()
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if !p.isPunct(")") {
			return nil, p.errf("expected ')'")
		}
		p.next()
		return c, nil
	}
	p.terms++
	if p.terms > p.maxTerms {
		return nil, fmt.Errorf("expression has more than %d criteria at character %d", p.maxTerms, p.peek().pos)
	}
	t := p.next()
	if t.kind != tWord {
		if p.lex.err != nil {
			return nil, p.lex.err
		}
		return nil, fmt.Errorf("expected an attribute at character %d (near %q)", t.pos, t.text)
	}
	ot := p.next()
	op, ok := opWords[strings.ToLower(ot.text)]
	if !ok || ot.kind == tString || ot.kind == tNumber {
		if p.lex.err != nil {
			return nil, p.lex.err
		}
		return nil, fmt.Errorf("unsupported operator %q at character %d", ot.text, ot.pos)
	}
	if op == "has" || op == "any" {
		if !p.isPunct("(") {
			return nil, p.errf("expected '(' after %s", op)
		}
		p.next()
		rc := &relCond{path: t.text, op: op}
		if !p.isPunct(")") {
			sub, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			rc.sub = sub
		}
		if !p.isPunct(")") {
			return nil, p.errf("expected ')'")
		}
		p.next()
		return rc, nil
	}
	v, err := p.parseValue(op == "in" || op == "not_in")
	if err != nil {
		return nil, err
	}
	return &cmpCond{path: t.text, op: op, val: v}, nil
}

func (p *parser) parseValue(list bool) (value, error) {
	if list {
		if !p.isPunct("(") {
			return value{}, p.errf("expected '(' to open a list")
		}
		p.next()
		v := value{kind: "list"}
		for !p.isPunct(")") {
			if len(v.list) >= p.maxIn {
				return value{}, fmt.Errorf("list has more than %d values at character %d", p.maxIn, p.peek().pos)
			}
			e, err := p.parseValue(false)
			if err != nil {
				return value{}, err
			}
			v.list = append(v.list, e)
			if p.isPunct(",") {
				p.next()
				continue
			}
			if !p.isPunct(")") {
				return value{}, p.errf("expected ',' or ')' in list")
			}
		}
		p.next()
		return v, nil
	}
	t := p.next()
	switch t.kind {
	case tString:
		return value{kind: "string", s: t.text}, nil
	case tNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return value{}, fmt.Errorf("bad number %q at character %d", t.text, t.pos)
		}
		return value{kind: "number", n: n, s: t.text}, nil
	case tWord:
		switch strings.ToLower(t.text) {
		case "none", "null":
			return value{kind: "null"}, nil
		case "true":
			return value{kind: "bool", b: true}, nil
		case "false":
			return value{kind: "bool"}, nil
		}
		return value{kind: "string", s: t.text}, nil
	}
	if p.lex.err != nil {
		return value{}, p.lex.err
	}
	return value{}, fmt.Errorf("expected a value at character %d", t.pos)
}
