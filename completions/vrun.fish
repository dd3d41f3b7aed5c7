# fish completion for vrun
complete -c vrun -f -a '(vrun --list -s 2>/dev/null)'
complete -c vrun -l file -s f -r -d 'Read FILE as the task file (default: vrun.lua).'
complete -c vrun -l makefile -r
complete -c vrun -l directory -s C -r -d 'Change to DIR before doing anything (repeatable, cumulative).'
complete -c vrun -l dry-run -s n -d 'Print the commands that would run; run none of them.'
complete -c vrun -l just-print
complete -c vrun -l recon
complete -c vrun -l jobs -s j -d 'Run up to N commands at once (bare -j: one per CPU).'
complete -c vrun -l keep-going -s k -d 'Keep going after a failure with what does not depend on it.'
complete -c vrun -l always-make -s B -d 'Consider every file target out of date.'
complete -c vrun -l silent -s s -d 'Do not echo commands.'
complete -c vrun -l quiet
complete -c vrun -l question -s q -d 'Run nothing; exit 1 if something would run, else 0.'
complete -c vrun -l environment-overrides -s e -d 'Let the environment beat assignments in the task file.'
complete -c vrun -l verbose -s v -d 'Print more, and a Lua traceback with errors.'
complete -c vrun -l list -d 'List the tasks and their descriptions (with -s: names only).'
complete -c vrun -l help -s h -d 'Print this help, or with a target: its description, deps, needs.'
complete -c vrun -l version -d 'Print vrun\'s version.'
complete -c vrun -l completions -r -d 'Print a completion script for bash, zsh or fish.'
complete -c vrun -l module-path -s M -r -d 'Look for modules in DIR first (repeatable).'
complete -c vrun -l modules -d 'List the modules vrun finds, with versions.'
