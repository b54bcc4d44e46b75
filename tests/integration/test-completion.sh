#!/usr/bin/env bash
# The bash completions of data/completion register for merod and meroctl
# (complete -p) and offer the commands a user types.
set -euo pipefail
# grep reads its whole input (no -q): with pipefail, grep -q leaving early
# made the writer die of SIGPIPE now and then, failing the test.
dir=$1
# _init_completion comes from bash-completion; a minimal stand-in keeps
# the test independent of it being installed.
if [ -f /usr/share/bash-completion/bash_completion ]; then
  source /usr/share/bash-completion/bash_completion
else
  _init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
  _filedir() { :; }
fi
source "$dir/merod"
source "$dir/meroctl"
complete -p merod | grep _merod >/dev/null
complete -p meroctl | grep _meroctl >/dev/null
complete_words() {
  COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
  "_${COMP_WORDS[0]}"
  printf '%s\n' "${COMPREPLY[@]}"
}
complete_words merod "" | grep -x run >/dev/null
complete_words merod run --b | grep -x -- --bus >/dev/null
complete_words meroctl co | grep -x context >/dev/null
complete_words meroctl context de | grep -x delete >/dev/null
complete_words meroctl --url http://x context "" | grep -x invite >/dev/null
complete_words meroctl call --a | grep -x -- --args-file >/dev/null
complete_words meroctl blob pro | grep -x providers >/dev/null
complete_words meroctl blob download ID --c | grep -x -- --context >/dev/null
complete_words meroctl blob upload FILE --context CTX --p | grep -x -- --public >/dev/null
# --public is upload's alone ("!" would not trip set -e: an if does fail).
if complete_words meroctl blob download ID --p | grep -x -- --public >/dev/null; then
  echo "--public offered for blob download" >&2; exit 1
fi
complete_words meroctl tee fl | grep -x fleet-join >/dev/null
echo "completions ok"
