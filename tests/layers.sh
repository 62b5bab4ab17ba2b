#!/bin/sh
# layers.sh - the include rules of src/ (HACKING.md, "Layers"):
#  - every file of src/ is in a folder named in the ```layers block of
#    HACKING.md (bottom-up, one folder a line, `#` starts a comment);
#  - a file includes no header of a folder listed after its own;
#  - no include cycle between modules (a module: a .c and its .h; X_impl.h
#    belongs to X, and so does every file that includes X_impl.h, for it
#    works on X's private parts);
#  - no two files of src/ share a name (headers are included by bare name).
# Prints each offending include as FILE:LINE and exits 1; 0 when clean.
# Needs only sh, find and awk.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
hacking=$top/HACKING.md
[ -r "$hacking" ] || { echo "layers.sh: cannot read $hacking" >&2; exit 1; }
[ -d "$top/src" ] || { echo "layers.sh: no $top/src" >&2; exit 1; }

files=$(cd "$top" && find src -type f \( -name '*.c' -o -name '*.h' -o -name '*.def' \) | LC_ALL=C sort)
[ -n "$files" ] || { echo "layers.sh: no sources under $top/src" >&2; exit 1; }

cd "$top" && awk -v hacking="$hacking" '
function err(msg) { print msg; bad = 1 }
function module(path,   m) {
	m = path
	sub(/\.(c|h|def)$/, "", m)
	sub(/_impl$/, "", m)
	return m
}
BEGIN {
	# the layer list
	inblock = 0; nl = 0
	while ((getline line < hacking) > 0) {
		if (!inblock && line ~ /^```layers[ \t]*$/) { inblock = 1; continue }
		if (inblock && line ~ /^```/) { inblock = 2; break }
		if (inblock) {
			sub(/#.*/, "", line); gsub(/[ \t]/, "", line)
			if (line == "") continue
			if (line in rank) { print "layers.sh: " line " listed twice in HACKING.md"; fatal = 1; exit 2 }
			rank[line] = ++nl; name[nl] = line
		}
	}
	close(hacking)
	if (inblock != 2 || nl == 0) {
		print "layers.sh: no ```layers block in " hacking; fatal = 1; exit 2
	}
	folders = name[1]
	for (i = 2; i <= nl; i++) folders = folders ", " name[i]
}
# pass 1 (ARGV): the file list, one path a line
FNR == NR {
	path = $0
	n = split(path, part, "/")
	base = part[n]
	if (n != 3 || !(part[2] in rank)) {
		err(path ": not in a layer folder; move it into src/FOLDER/ for one of " \
		    folders " (the lowest whose headers it needs; HACKING.md, \"Layers\"), " \
		    "or add a new folder to the ```layers block there")
		next
	}
	if (base in where) {
		err(path ": same name as " where[base] " (headers are included by bare name)")
		next
	}
	where[base] = path
	layer[path] = part[2]
	src[++nsrc] = path
	next
}
END {
	if (fatal) exit 2
	{
		# files that include X_impl.h are parts of module X
		for (k = 1; k <= nsrc; k++) {
			f = src[k]
			while ((getline line < f) > 0) {
				if (line !~ /^[ \t]*#[ \t]*include[ \t]*"[^"]*_impl\.h"/) continue
				inc = line
				sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", inc)
				sub(/".*/, "", inc)
				if ((inc in where) && module(f) != module(where[inc]))
					owner[module(f)] = module(where[inc])
			}
			close(f)
		}
		for (k = 1; k <= nsrc; k++) {
			f = src[k]; ln = 0
			while ((getline line < f) > 0) {
				ln++
				if (line !~ /^[ \t]*#[ \t]*include[ \t]*"/) continue
				inc = line
				sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", inc)
				sub(/".*/, "", inc)
				if (!(inc in where)) continue   # auto-config.h, include/stubd/...
				t = where[inc]
				if (rank[layer[t]] > rank[layer[f]]) {
					err(f ":" ln ": #include \"" inc "\": " t " is in layer " layer[t] \
					    ", above " layer[f] " (HACKING.md, \"Layers\")")
				}
				a = module(f); b = module(t)
				if (a in owner) a = owner[a]
				if (b in owner) b = owner[b]
				if (a != b && !((a, b) in edge)) {
					edge[a, b] = f ":" ln ": #include \"" inc "\""
					nout[a]++; out[a, nout[a]] = b
					mods[a] = 1; mods[b] = 1
				}
			}
			close(f)
		}
		# cycles: depth-first search, colour 1 = on the stack, 2 = done
		for (m in mods) {
			if (color[m]) continue
			sp = 0; stack[++sp] = m; idx[m] = 0; color[m] = 1
			while (sp > 0) {
				u = stack[sp]
				if (idx[u] < nout[u]) {
					v = out[u, ++idx[u]]
					if (color[v] == 1) {
						msg = "include cycle:"
						for (j = 1; j <= sp; j++) if (stack[j] == v) break
						for (; j <= sp; j++) {
							w = stack[j]
							nx = (j < sp) ? stack[j + 1] : v
							msg = msg "\n  " edge[w, nx]
						}
						err(msg)
					} else if (!color[v]) {
						color[v] = 1; idx[v] = 0; stack[++sp] = v
					}
				} else {
					color[u] = 2; sp--
				}
			}
		}
	}
	if (bad) {
		print "layers.sh: FAIL"
		exit 1
	}
	print "layers.sh: " nsrc " files in " nl " layers, no upward include, no cycle"
}
' - <<EOF
$files
EOF
