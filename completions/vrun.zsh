#compdef vrun
# zsh completion for vrun
_vrun() {
  local -a tasks opts
  opts=(-f --file --makefile -C --directory -n --dry-run --just-print --recon -j --jobs -k --keep-going -B --always-make -s --silent --quiet -q --question -e --environment-overrides -v --verbose --list -h --help --version --completions -M --module-path --modules)
  if [[ $PREFIX == -* ]]; then
    compadd -- $opts
  else
    tasks=(${(f)"$(vrun --list -s 2>/dev/null)"})
    compadd -- $tasks
  fi
}
compdef _vrun vrun
