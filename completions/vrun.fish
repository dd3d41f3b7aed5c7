# fish completion for vrun
complete -c vrun -f -a '(vrun --list -s 2>/dev/null)'
complete -c vrun -l file -s f -r -d 'Read FILE as the task file (default: vrun.lua).'
complete -c vrun -l makefile -r
complete -c vrun -l directory -s C -r -d 'Change to DIR first (repeatable, cumulative).'
complete -c vrun -l dry-run -s n -d 'Print the commands that would run; run none.'
complete -c vrun -l just-print
complete -c vrun -l recon
complete -c vrun -l jobs -s j -d 'Run up to N commands at once (bare -j: CPUs).'
complete -c vrun -l keep-going -s k -d 'Keep going with what does not need the failure.'
complete -c vrun -l always-make -s B -d 'Consider every file target out of date.'
complete -c vrun -l silent -s s -d 'Do not echo commands.'
complete -c vrun -l quiet
complete -c vrun -l question -s q -d 'Run nothing; exit 1 if anything would run.'
complete -c vrun -l environment-overrides -s e -d 'Let the environment beat task-file assignments.'
complete -c vrun -l verbose -s v -d 'Print more, and a Lua traceback with errors.'
complete -c vrun -l list -d 'List tasks and descriptions (-s: names only).'
complete -c vrun -l help -s h -d 'This help, or a target\'s description and needs.'
complete -c vrun -l version -d 'Print vrun\'s version.'
complete -c vrun -l completions -r -d 'Print a completion script for bash, zsh or fish.'
complete -c vrun -l module-path -s M -r -d 'Look for modules in DIR first (repeatable).'
complete -c vrun -l modules -d 'List the modules vrun finds, with versions.'
