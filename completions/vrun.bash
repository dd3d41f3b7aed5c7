# bash completion for vrun
_vrun()
{
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  case $prev in
    -f|--file|--makefile) COMPREPLY=($(compgen -f -- "$cur")); return;;
    -C|--directory|-M|--module-path) COMPREPLY=($(compgen -d -- "$cur")); return;;
    --completions) COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")); return;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W '-f --file --makefile -C --directory -n --dry-run --just-print --recon -j --jobs -k --keep-going -B --always-make -s --silent --quiet -q --question -e --environment-overrides -v --verbose --list -h --help --version --completions -M --module-path --modules' -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(vrun --list -s 2>/dev/null)" -- "$cur"))
  fi
}
complete -F _vrun vrun
