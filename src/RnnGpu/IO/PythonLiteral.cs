using System.Globalization;
using System.Text;

namespace RnnGpu.IO;

/// <summary>A value of the tiny Python literal subset that .npy headers use (what ast.literal_eval would give).</summary>
internal abstract record PyValue
{
    public abstract string Repr();
    public sealed override string ToString() => Repr();
}

internal sealed record PyStr(string Value) : PyValue
{
    public override string Repr() => "'" + Value.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
}

internal sealed record PyInt(long Value) : PyValue
{
    public override string Repr() => Value.ToString(CultureInfo.InvariantCulture);
}

internal sealed record PyBool(bool Value) : PyValue
{
    public override string Repr() => Value ? "True" : "False";
}

internal sealed record PyNone : PyValue
{
    public override string Repr() => "None";
}

internal sealed record PySequence(bool IsTuple, IReadOnlyList<PyValue> Items) : PyValue
{
    public override string Repr()
    {
        string inner = string.Join(", ", Items.Select(i => i.Repr()));
        return IsTuple ? (Items.Count == 1 ? $"({inner},)" : $"({inner})") : $"[{inner}]";
    }
}

internal sealed record PyDict(IReadOnlyList<KeyValuePair<PyValue, PyValue>> Items) : PyValue
{
    public override string Repr() => "{" + string.Join(", ", Items.Select(i => $"{i.Key.Repr()}: {i.Value.Repr()}")) + "}";
}

/// <summary>
/// Recursive-descent parser for Python literals: dicts, tuples, lists, strings, integers, True/False/None.
/// Written by hand because .npy headers are Python source, not JSON. Throws <see cref="FormatException"/>.
/// </summary>
internal sealed class PythonLiteral
{
    // Headers are flat; the limit only exists so that "((((((..." cannot overflow the stack.
    private const int MaxDepth = 32;

    private readonly string _text;
    private int _pos;

    private PythonLiteral(string text) => _text = text;

    public static PyValue Parse(string text)
    {
        var parser = new PythonLiteral(text);
        PyValue value = parser.ParseValue(0);
        parser.SkipWhitespace();
        if (parser._pos != text.Length)
            throw parser.Error("unexpected text after the literal");
        return value;
    }

    private PyValue ParseValue(int depth)
    {
        if (depth > MaxDepth) throw Error($"nested deeper than {MaxDepth} levels");
        SkipWhitespace();
        if (_pos >= _text.Length) throw Error("unexpected end of header");
        char c = _text[_pos];
        switch (c)
        {
            case '{': return ParseDict(depth);
            case '(': return ParseParenthesized(depth);
            case '[': return new PySequence(false, ParseItems(']', depth));
            case '\'' or '"': return new PyStr(ParseString());
            case '-' or '+' or (>= '0' and <= '9'): return new PyInt(ParseInt());
        }
        if (TryKeyword("True")) return new PyBool(true);
        if (TryKeyword("False")) return new PyBool(false);
        if (TryKeyword("None")) return new PyNone();
        throw Error($"unexpected character '{c}'");
    }

    private PyDict ParseDict(int depth)
    {
        _pos++; // '{'
        var items = new List<KeyValuePair<PyValue, PyValue>>();
        while (true)
        {
            SkipWhitespace();
            if (Peek() == '}') { _pos++; return new PyDict(items); }
            PyValue key = ParseValue(depth + 1);
            Expect(':');
            PyValue value = ParseValue(depth + 1);
            items.Add(new(key, value));
            SkipWhitespace();
            if (Peek() == ',') { _pos++; continue; }
            Expect('}');
            return new PyDict(items);
        }
    }

    /// <summary>"()" and "(x,)" and "(x, y)" are tuples; "(x)" is just x, as in Python.</summary>
    private PyValue ParseParenthesized(int depth)
    {
        List<PyValue> items = ParseItems(')', depth, out bool sawComma);
        return items.Count == 1 && !sawComma ? items[0] : new PySequence(true, items);
    }

    private List<PyValue> ParseItems(char close, int depth) => ParseItems(close, depth, out _);

    private List<PyValue> ParseItems(char close, int depth, out bool sawComma)
    {
        _pos++; // opening bracket
        sawComma = false;
        var items = new List<PyValue>();
        while (true)
        {
            SkipWhitespace();
            if (Peek() == close) { _pos++; return items; }
            items.Add(ParseValue(depth + 1));
            SkipWhitespace();
            if (Peek() == ',') { _pos++; sawComma = true; continue; }
            Expect(close);
            return items;
        }
    }

    private string ParseString()
    {
        char quote = _text[_pos++];
        var sb = new StringBuilder();
        while (_pos < _text.Length)
        {
            char c = _text[_pos++];
            if (c == quote) return sb.ToString();
            if (c == '\n') break;
            if (c != '\\') { sb.Append(c); continue; }
            if (_pos >= _text.Length) break;
            char e = _text[_pos++];
            sb.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', _ => e });
        }
        throw Error("unterminated string");
    }

    private long ParseInt()
    {
        int start = _pos;
        bool negative = _text[_pos] == '-';
        if (_text[_pos] is '-' or '+') { _pos++; SkipWhitespace(); }
        int digitsStart = _pos;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        if (_pos == digitsStart) throw Error("expected digits");
        string digits = _text[digitsStart.._pos];
        // Python 2 numpy wrote longs as "3L".
        if (_pos < _text.Length && _text[_pos] is 'L' or 'l') _pos++;
        if (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] is '.' or '_'))
            throw Error($"'{_text[start..(_pos + 1)]}' is not an integer");
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            throw Error($"integer {(negative ? "-" : "")}{(digits.Length > 30 ? digits[..30] + "..." : digits)} is out of range");
        return negative ? -value : value;
    }

    private bool TryKeyword(string word)
    {
        if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0) return false;
        int end = _pos + word.Length;
        if (end < _text.Length && (char.IsAsciiLetterOrDigit(_text[end]) || _text[end] == '_')) return false;
        _pos = end;
        return true;
    }

    private void Expect(char c)
    {
        SkipWhitespace();
        if (Peek() != c) throw Error(_pos < _text.Length ? $"expected '{c}' but found '{_text[_pos]}'" : $"expected '{c}' but the header ended");
        _pos++;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void SkipWhitespace()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
    }

    private FormatException Error(string problem) => new($"{problem} at character {_pos}");
}
