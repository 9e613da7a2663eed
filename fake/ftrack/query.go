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

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == c {
					closed = true
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string starting at character %d", start)
			}
			out = append(out, token{tString, b.String(), start})
		case c == '(' || c == ')' || c == ',':
			out = append(out, token{tPunct, string(c), i})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			start := i
			i++
			if i < len(s) && s[i] == '=' {
				i++
			}
			op := s[start:i]
			if op == "!" {
				return nil, fmt.Errorf("unexpected '!' at character %d", start)
			}
			out = append(out, token{tPunct, op, start})
		case c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			start := i
			i++
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
				i++
			}
			out = append(out, token{tNumber, s[start:i], start})
		case c == '_' || c < 0x80 && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))):
			// Words: names, dotted paths, keywords, and bare values such
			// as uuids, which the reference Python client sends unquoted
			// (location_id is 3a372bde-05bc-11e4-8908-20c9d081909b).
			start := i
			for i < len(s) && (s[i] == '_' || s[i] == '.' || s[i] == '-' || s[i] == ':' ||
				s[i] < 0x80 && (unicode.IsLetter(rune(s[i])) || unicode.IsDigit(rune(s[i])))) {
				i++
			}
			w := s[start:i]
			if _, err := strconv.ParseFloat(w, 64); err == nil {
				out = append(out, token{tNumber, w, start})
			} else {
				out = append(out, token{tWord, w, start})
			}
		default:
			return nil, fmt.Errorf("unexpected character %q at %d", c, i)
		}
	}
	return append(out, token{tEOF, "", len(s)}), nil
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

// cond is a node of the criteria tree.
type cond interface{ isCond() }

type andCond struct{ l, r cond }
type orCond struct{ l, r cond }
type notCond struct{ c cond }
type cmpCond struct {
	path string
	op   string // is, is_not, gt, lt, ge, le, in, not_in, like, not_like
	val  value
}
type relCond struct {
	path string
	op   string // has, any
	sub  cond   // nil: any entity
}

func (andCond) isCond() {}
func (orCond) isCond()  {}
func (notCond) isCond() {}
func (cmpCond) isCond() {}
func (relCond) isCond() {}

// value is a literal: a string (quoted or bare word), a number, a bool,
// null, or a list of those.
type value struct {
	kind string // string, number, bool, null, list
	s    string
	n    float64
	b    bool
	list []value
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
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
	t := p.peek()
	near := t.text
	if t.kind == tEOF {
		near = "end of expression"
	}
	return fmt.Errorf(format+" at character %d (near %q)", append(a, t.pos, near)...)
}

// parseQuery parses an expression. The error text is what the fake sends
// as the error's content.
func parseQuery(s string) (*query, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
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
	for p.isWord("or") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = orCond{l, r}
	}
	return l, nil
}

func (p *parser) parseAnd() (cond, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		p.next()
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = andCond{l, r}
	}
	return l, nil
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
	if p.isWord("not") {
		p.next()
		c, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notCond{c}, nil
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
	t := p.next()
	if t.kind != tWord {
		return nil, fmt.Errorf("expected an attribute at character %d (near %q)", t.pos, t.text)
	}
	ot := p.next()
	op, ok := opWords[strings.ToLower(ot.text)]
	if !ok || ot.kind == tString || ot.kind == tNumber {
		return nil, fmt.Errorf("unsupported operator %q at character %d", ot.text, ot.pos)
	}
	if op == "has" || op == "any" {
		if !p.isPunct("(") {
			return nil, p.errf("expected '(' after %s", op)
		}
		p.next()
		rc := relCond{path: t.text, op: op}
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
	return cmpCond{path: t.text, op: op, val: v}, nil
}

func (p *parser) parseValue(list bool) (value, error) {
	if list {
		if !p.isPunct("(") {
			return value{}, p.errf("expected '(' to open a list")
		}
		p.next()
		v := value{kind: "list"}
		for !p.isPunct(")") {
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
	return value{}, fmt.Errorf("expected a value at character %d", t.pos)
}
