#!/usr/bin/env bash
# The bash completions of data/completion register for merod and meroctl
# (complete -p) and offer the commands a user types.
set -euo pipefail
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
complete -p merod | grep -q _merod
complete -p meroctl | grep -q _meroctl
complete_words() {
  COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
  "_${COMP_WORDS[0]}"
  printf '%s\n' "${COMPREPLY[@]}"
}
complete_words merod "" | grep -qx run
complete_words merod run --b | grep -qx -- --bus
complete_words meroctl co | grep -qx context
complete_words meroctl context de | grep -qx delete
complete_words meroctl --url http://x context "" | grep -qx invite
complete_words meroctl call --a | grep -qx -- --args-file
echo "completions ok"
