package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/calipath/calipath/correlate"
	"github.com/spf13/pflag"
)

// The shell completion scripts are written from the subcommands' own flag sets (flagSetOf), so a
// new flag is completed without a change here. What a flag's value is comes from its placeholder
// (FILE, DIR, NODE=FILE, NODE:IFACE=FILE); the fixed values of a few flags from flagValues.

// completionShells are the shells calipath writes completion scripts for.
var completionShells = []string{"bash", "zsh", "fish"}

// captureExts are the file name endings the completion offers for capture files (and directories).
var captureExts = []string{"pcap", "pcapng", "cap", "gz"}

func runCompletion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("completion", "SHELL", stdout, stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr(fs, stderr, "name one shell: %s (e.g. source <(calipath completion bash))", strings.Join(completionShells, ", "))
	}
	spec := completionSpec()
	var script string
	switch sh := strings.ToLower(fs.Arg(0)); sh {
	case "bash":
		script = bashCompletion(spec)
	case "zsh":
		script = zshCompletion(spec)
	case "fish":
		script = fishCompletion(spec)
	default:
		return usageErr(fs, stderr, "no completion for shell %q (have %s)", fs.Arg(0), strings.Join(completionShells, ", "))
	}
	_, err := io.WriteString(stdout, script)
	return err
}

// complSub is what the completion knows of one subcommand.
type complSub struct {
	name, summary string
	flags         []complFlag
	captures      bool     // it takes capture files after its flags
	words         []string // or one of these words (completion: the shells; help: the subcommands)
}

// complFlag is what the completion knows of one flag.
type complFlag struct {
	long, short, usage string
	placeholder        string   // what stands for its value in the help: FILE, NODE=FILE, "" for none
	value              bool     // it takes a value
	values             []string // the value is one of these
	list               bool     // or a comma-separated list of them
	files              string   // the value is a file: "file", "dir", "capture"
	afterEq            bool     // ...after NODE= (NODE=FILE, NODE:IFACE=FILE)
}

// flagValues are the fixed values of a subcommand's flag, and whether it takes a comma-separated
// list of them. A test checks that the subcommand accepts each.
func flagValues(sub, flag string) (values []string, list bool) {
	switch flag {
	case "format":
		if sub == "points" || sub == "packets" {
			return []string{"text", "json"}, false
		}
		return []string{"text", "markdown", "html", "json"}, false
	case "fail-on":
		return append(correlate.Severities(), correlate.AnomalyKinds()...), true
	case "scenario":
		return demoScenarios(), false
	}
	return nil, false
}

// completionSpec gathers what the completion scripts offer, subcommands sorted.
func completionSpec() []complSub {
	var out []complSub
	for _, c := range commands() {
		s := complSub{name: c.name, summary: c.summary}
		switch c.name {
		case "help":
			for _, o := range commands() {
				s.words = append(s.words, o.name)
			}
			sort.Strings(s.words)
		case "completion":
			s.words = completionShells
		}
		fs, args := flagSetOf(c)
		s.captures = args == "FILE..."
		if fs != nil {
			fs.VisitAll(func(f *pflag.Flag) {
				if f.Hidden {
					return
				}
				name, usage := placeholder(f)
				cf := complFlag{long: f.Name, short: f.Shorthand, usage: usage, placeholder: name, value: name != ""}
				cf.values, cf.list = flagValues(c.name, f.Name)
				switch {
				case name == "FILE" || name == "PATH": // PATH: a file or a directory
					cf.files = "file"
				case name == "DIR":
					cf.files = "dir"
				case name == "PATH": // a file or a directory (--k8s)
					cf.files = "file"
				case name == "NODE:IFACE=FILE":
					cf.files, cf.afterEq = "capture", true
				case strings.HasSuffix(name, "=FILE"):
					cf.files, cf.afterEq = "file", true
				}
				s.flags = append(s.flags, cf)
			})
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// shortUsage is a flag's usage without its parenthesised remarks and what follows a semicolon, for
// the shells that show it beside the flag.
func shortUsage(u string) string {
	for {
		i := strings.Index(u, " (")
		j := strings.Index(u[max(i, 0):], ")")
		if i < 0 || j < 0 {
			break
		}
		u = u[:i] + u[i+j+1:]
	}
	u, _, _ = strings.Cut(u, "; ")
	return strings.TrimSpace(u)
}

func bashCompletion(spec []complSub) string {
	var b strings.Builder
	var subs []string
	for _, s := range spec {
		subs = append(subs, s.name)
	}
	fmt.Fprintf(&b, `# bash completion for calipath: source <(calipath completion bash)
# (or save it as /etc/bash_completion.d/calipath or ~/.local/share/bash-completion/completions/calipath)

# _calipath_add CUR PREFIX WORD...: the WORDs that start with CUR (in any case), each after PREFIX.
_calipath_add() {
    local cur=$1 pre=$2 w
    shift 2
    for w in "$@"; do
        [[ ${w,,} == "${cur,,}"* ]] && COMPREPLY+=("$pre$w")
    done
}

# _calipath_files CUR PREFIX KIND: files (KIND file), directories (dir) or capture files and
# directories (capture) that start with CUR.
_calipath_files() {
    local cur=$1 pre=$2 kind=$3 f
    compopt -o filenames 2>/dev/null
    if [[ $kind == dir ]]; then
        while IFS= read -r f; do COMPREPLY+=("$pre$f"); done < <(compgen -d -- "$cur")
        return
    fi
    while IFS= read -r f; do
        if [[ $kind == file || -d $f ]]; then
            COMPREPLY+=("$pre$f")
            continue
        fi
        case ${f,,} in
        %s) COMPREPLY+=("$pre$f") ;;
        esac
    done < <(compgen -f -- "$cur")
}

# _calipath_value SUB FLAG CUR PREFIX: completes the value of FLAG; fails if FLAG takes none.
_calipath_value() {
    local cur=$3 pre=$4
    case "$1 $2" in
`, "*."+strings.Join(captureExts, "|*."))
	for _, s := range spec {
		for _, f := range s.flags {
			if !f.value {
				continue
			}
			pat := fmt.Sprintf(`"%s --%s"`, s.name, f.long)
			if f.short != "" {
				pat += fmt.Sprintf(`|"%s -%s"`, s.name, f.short)
			}
			fmt.Fprintf(&b, "    %s)\n", pat)
			switch {
			case f.list:
				fmt.Fprintf(&b, "        _calipath_add \"${cur##*,}\" \"$pre${cur%%\"${cur##*,}\"}\" %s\n", strings.Join(f.values, " "))
			case len(f.values) > 0:
				fmt.Fprintf(&b, "        _calipath_add \"$cur\" \"$pre\" %s\n", strings.Join(f.values, " "))
			case f.files != "" && f.afterEq:
				// Nothing to offer for the NODE part; the value is still the flag's, not a file to read.
				fmt.Fprintf(&b, "        if [[ $cur == *=* ]]; then _calipath_files \"${cur#*=}\" \"$pre${cur%%%%=*}=\" %s; fi\n", f.files)
			case f.files != "":
				fmt.Fprintf(&b, "        _calipath_files \"$cur\" \"$pre\" %s\n", f.files)
			}
			b.WriteString("        ;;\n")
		}
	}
	b.WriteString(`    *) return 1 ;;
    esac
}

# _calipath_flags SUB: the flags of SUB.
_calipath_flags() {
    case $1 in
`)
	for _, s := range spec {
		var fl []string
		for _, f := range s.flags {
			if f.short != "" {
				fl = append(fl, "-"+f.short)
			}
			fl = append(fl, "--"+f.long)
		}
		fl = append(fl, "-h", "--help")
		fmt.Fprintf(&b, "    %s) echo %s ;;\n", s.name, strings.Join(fl, " "))
	}
	b.WriteString(`    esac
}

# _calipath_args SUB CUR: what SUB takes after its flags.
_calipath_args() {
    case $1 in
`)
	for _, s := range spec {
		switch {
		case len(s.words) > 0:
			fmt.Fprintf(&b, "    %s) _calipath_add \"$2\" \"\" %s ;;\n", s.name, strings.Join(s.words, " "))
		case s.captures:
			fmt.Fprintf(&b, "    %s) _calipath_files \"$2\" \"\" capture ;;\n", s.name)
		}
	}
	fmt.Fprintf(&b, `    esac
}

_calipath() {
    COMPREPLY=()
    # The words up to the cursor, split at blanks only (bash also splits at = and :).
    local line words cur prev sub i n
    if [[ -n ${COMP_LINE+set} ]]; then
        line=${COMP_LINE:0:COMP_POINT}
    else
        line="${COMP_WORDS[*]:0:COMP_CWORD+1}"
    fi
    read -r -a words <<<"$line"
    [[ -z $line || $line == *[[:blank:]] ]] && words+=("")
    n=${#words[@]}
    cur=${words[n-1]}
    prev=""
    ((n > 2)) && prev=${words[n-2]}
    sub=""
    for ((i = 1; i < n - 1; i++)); do
        if [[ ${words[i]} != -* ]]; then
            sub=${words[i]}
            break
        fi
    done
    [[ -n $sub && " %s " != *" $sub "* ]] && sub=tui # calipath FILE... is calipath tui FILE...
    if [[ -z $sub ]]; then
        if [[ $cur == -* ]]; then
            _calipath_add "$cur" "" -h --help --version
        else
            _calipath_add "$cur" "" %s
            [[ ${#COMPREPLY[@]} -eq 0 ]] && _calipath_files "$cur" "" capture
        fi
    elif [[ $cur == --*=* ]] && _calipath_value "$sub" "${cur%%%%=*}" "${cur#*=}" "${cur%%%%=*}="; then
        :
    elif [[ $prev == -* && $prev != *=* ]] && _calipath_value "$sub" "$prev" "$cur" ""; then
        :
    elif [[ $cur == -* ]]; then
        _calipath_add "$cur" "" $(_calipath_flags "$sub")
    else
        _calipath_args "$sub" "$cur"
    fi
    # bash replaces only the part of the word after its last break character (= and : among them).
    for ((i = ${#cur} - 1; i >= 0; i--)); do
        if [[ $COMP_WORDBREAKS == *"${cur:i:1}"* ]]; then
            COMPREPLY=("${COMPREPLY[@]#"${cur:0:i+1}"}")
            break
        fi
    done
    return 0
}

complete -F _calipath calipath
`, strings.Join(subs, " "), strings.Join(subs, " "))
	return b.String()
}

// zshQuote quotes s for zsh in single quotes.
func zshQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// zshDesc makes s fit inside an _arguments [description] or a _describe entry.
func zshDesc(s string) string {
	return strings.NewReplacer("[", "(", "]", ")", ":", "\\:", "\\", "").Replace(s)
}

func zshCompletion(spec []complSub) string {
	var b strings.Builder
	b.WriteString(`#compdef calipath
# zsh completion for calipath: source <(calipath completion zsh) after compinit
# (or save it as _calipath in a directory of $fpath)

_calipath() {
    local curcontext="$curcontext" state line
    local -a subcommands
    subcommands=(
`)
	for _, s := range spec {
		fmt.Fprintf(&b, "        %s\n", zshQuote(s.name+":"+zshDesc(s.summary)))
	}
	fmt.Fprintf(&b, `    )
    _arguments -C \
        '(- *)'{-h,--help}'[show the subcommands]' \
        '(- *)--version[print the version]' \
        '1: :->subcommand' \
        '*:: :->args'
    case $state in
    subcommand)
        _describe -t subcommands 'calipath subcommand' subcommands
        _files -g %s
        ;;
    args)
        case $words[1] in
`, zshQuote("*.("+strings.Join(captureExts, "|")+")"))
	for _, s := range spec {
		fmt.Fprintf(&b, "        %s)\n            _arguments -s -S \\\n", s.name)
		for _, f := range s.flags {
			action := ""
			if f.value {
				ph := zshDesc(f.placeholder)
				exts := "\"*.(" + strings.Join(captureExts, "|") + ")\""
				switch {
				case f.list:
					action = ":" + ph + ":_sequence compadd - " + strings.Join(f.values, " ")
				case len(f.values) > 0:
					action = ":" + ph + ":(" + strings.Join(f.values, " ") + ")"
				case f.files == "dir":
					action = ":" + ph + ":_files -/"
				case f.files == "capture" && f.afterEq:
					action = ":" + ph + ":{compset -P \"*=\" && _files -g " + exts + "}"
				case f.files == "capture":
					action = ":" + ph + ":_files -g " + exts
				case f.files != "" && f.afterEq:
					action = ":" + ph + ":{compset -P \"*=\" && _files}"
				case f.files != "":
					action = ":" + ph + ":_files"
				default:
					action = ":" + ph + ": "
				}
			}
			desc := "[" + zshDesc(shortUsage(f.usage)) + "]"
			if f.short != "" {
				eq, plus := "", ""
				if f.value {
					eq, plus = "=", "+"
				}
				fmt.Fprintf(&b, "                %s{-%s%s,--%s%s}%s \\\n", zshQuote("(-"+f.short+" --"+f.long+")"),
					f.short, plus, f.long, eq, zshQuote(desc+action))
				continue
			}
			eq := ""
			if f.value {
				eq = "="
			}
			fmt.Fprintf(&b, "                %s \\\n", zshQuote("--"+f.long+eq+desc+action))
		}
		b.WriteString("                '(- *)'{-h,--help}'[show the flags]'")
		switch {
		case len(s.words) > 0:
			fmt.Fprintf(&b, " \\\n                %s", zshQuote("1:word:("+strings.Join(s.words, " ")+")"))
		case s.captures:
			fmt.Fprintf(&b, " \\\n                %s", zshQuote("*:capture file:_files -g \"*.("+strings.Join(captureExts, "|")+")\""))
		}
		b.WriteString("\n            ;;\n")
	}
	b.WriteString(`        *)
            _files
            ;;
        esac
        ;;
    esac
}

if [[ $funcstack[1] == _calipath ]]; then
    _calipath "$@"
else
    compdef _calipath calipath
fi
`)
	return b.String()
}

// fishQuote quotes s for fish in single quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

func fishCompletion(spec []complSub) string {
	var b strings.Builder
	var subs []string
	for _, s := range spec {
		subs = append(subs, s.name)
	}
	fmt.Fprintf(&b, `# fish completion for calipath: calipath completion fish | source
# (or save it as ~/.config/fish/completions/calipath.fish)

# Capture files and directories that start with the current word, each after its NODE= part if any.
function __calipath_captures
    set -l tok (commandline -ct)
    set -l pre (string match -r '^.*=' -- $tok; or echo '')
    set -l rest (string replace -r '^.*=' '' -- $tok)
    for f in $rest*
        if test -d $f
            echo $pre$f/
        else if string match -qir '\.(%s)$' -- $f
            echo $pre$f
        end
    end
end

# Any file after a NODE= part.
function __calipath_node_files
    set -l tok (commandline -ct)
    set -l pre (string match -r '^.*=' -- $tok; or echo '')
    set -l rest (string replace -r '^.*=' '' -- $tok)
    for f in $rest*
        if test -d $f
            echo $pre$f/
        else
            echo $pre$f
        end
    end
end

# The words of a comma-separated list, each after the items already typed.
function __calipath_list
    set -l pre (string replace -r '[^,]*$' '' -- (commandline -ct))
    for w in $argv
        echo $pre$w
    end
end

complete -c calipath -f
complete -c calipath -n __fish_use_subcommand -s h -l help -d 'show the subcommands'
complete -c calipath -n __fish_use_subcommand -l version -d 'print the version'
complete -c calipath -n __fish_use_subcommand -a '(__calipath_captures)'
`, strings.Join(captureExts, "|"))
	for _, s := range spec {
		fmt.Fprintf(&b, "complete -c calipath -n __fish_use_subcommand -a %s -d %s\n", s.name, fishQuote(s.summary))
	}
	for _, s := range spec {
		cond := fishQuote("__fish_seen_subcommand_from " + s.name)
		for _, f := range s.flags {
			line := "complete -c calipath -n " + cond
			if f.short != "" {
				line += " -s " + f.short
			}
			line += " -l " + f.long
			switch {
			case f.list:
				line += " -x -a " + fishQuote("(__calipath_list "+strings.Join(f.values, " ")+")")
			case len(f.values) > 0:
				line += " -x -a " + fishQuote(strings.Join(f.values, " "))
			case f.files == "capture":
				line += " -x -a '(__calipath_captures)'"
			case f.files == "file" && f.afterEq:
				line += " -x -a '(__calipath_node_files)'"
			case f.files == "dir":
				line += " -x -a '(__fish_complete_directories)'"
			case f.files == "file":
				line += " -r -F"
			case f.value:
				line += " -x"
			}
			fmt.Fprintf(&b, "%s -d %s\n", line, fishQuote(shortUsage(f.usage)))
		}
		fmt.Fprintf(&b, "complete -c calipath -n %s -s h -l help -d 'show the flags'\n", cond)
		switch {
		case len(s.words) > 0:
			fmt.Fprintf(&b, "complete -c calipath -n %s -a %s\n", cond, fishQuote(strings.Join(s.words, " ")))
		case s.captures:
			fmt.Fprintf(&b, "complete -c calipath -n %s -a '(__calipath_captures)'\n", cond)
		}
	}
	// calipath FILE... is calipath tui FILE...
	fmt.Fprintf(&b, "complete -c calipath -n %s -a '(__calipath_captures)'\n",
		fishQuote("not __fish_use_subcommand; and not __fish_seen_subcommand_from "+strings.Join(subs, " ")))
	return b.String()
}
