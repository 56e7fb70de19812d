function __happy_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __happy_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __happy_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __happy_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __happy_parse_tokens -S
    set -l unparsed_tokens (__happy_tokens -pc)
    switch $unparsed_tokens[1]
    case 'happy'
        __happy_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'auth'
            __happy_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'login'
                __happy_parse_subcommand 0 'method=' 'force' 'no-browser' 'timeout=' 'invert-qr' 'cert=' 'key=' 'cert-password-file=' 'pkcs11-module=' 'revocation-check=' 'server=' 'ca=' 'debug' 'version' 'h/help'
            case 'status'
                __happy_parse_subcommand 0 'json' 'check' 'timeout=' 'server=' 'ca=' 'debug' 'version' 'h/help'
            case 'logout'
                __happy_parse_subcommand 0 'y/yes' 'deregister' 'server=' 'ca=' 'debug' 'version' 'h/help'
            case 'approve'
                __happy_parse_subcommand 1 'server=' 'ca=' 'debug' 'version' 'h/help'
            case 'token'
                __happy_parse_subcommand 0 'version' 'h/help'
            end
        case 'help'
            __happy_parse_subcommand -r 1 'version'
        end
    end
end

function __happy_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __happy_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __happy_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __happy_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__happy_tokens -p)
    if test -z "$(__happy_tokens -t)"
        set -l index (count (__happy_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'happy' -f
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy" version' -l 'version' -d 'Show the version.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'happy' -n '__happy_should_offer_completions_for_positional "happy" -eq 1' -fa 'auth' -d 'Log this machine in or out of Happy, show its status, approve a terminal, or print the token.'
complete -c 'happy' -n '__happy_should_offer_completions_for_positional "happy" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth" version' -l 'version' -d 'Show the version.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'happy' -n '__happy_should_offer_completions_for_positional "happy auth" -eq 1' -fa 'login' -d 'Link this machine to your Happy account.'
complete -c 'happy' -n '__happy_should_offer_completions_for_positional "happy auth" -eq 1' -fa 'status' -d 'Show whether this machine is logged in to Happy.'
complete -c 'happy' -n '__happy_should_offer_completions_for_positional "happy auth" -eq 1' -fa 'logout' -d 'Log this machine out: stop the daemon, remove credentials and the machine ID.'
complete -c 'happy' -n '__happy_should_offer_completions_for_positional "happy auth" -eq 1' -fa 'approve' -d 'Approve another terminal\'s login from this logged-in machine.'
complete -c 'happy' -n '__happy_should_offer_completions_for_positional "happy auth" -eq 1' -fa 'token' -d 'Print the stored access token, for scripts.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" method' -l 'method' -d 'How to approve: mobile (QR code), web (browser) or certificate (a device certificate the browser holds). Asked when run in a terminal; mobile otherwise.' -rfka 'mobile web certificate'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" force' -l 'force' -d 'Stop the daemon, clear the stored credentials and machine ID, and log in again.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" no-browser' -l 'no-browser' -d 'Print the web approval link (or the certificate sign-in link) without opening a browser.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" timeout' -l 'timeout' -d 'Seconds the whole login may take (at most 604800, a week).' -rfka ''
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" invert-qr' -l 'invert-qr' -d 'Draw the QR code for terminals with a light background.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" cert' -l 'cert' -d 'Log in with this device certificate: PEM (certificate, optionally with its key), PKCS#12 (.p12/.pfx), or a pkcs11: URI naming a certificate and key on a token.' -rfa '(set -l exts \'pem\' \'crt\' \'p12\' \'pfx\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" key' -l 'key' -d 'The certificate\'s private key, when it is in a separate PEM file.' -rfa '(set -l exts \'pem\' \'key\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" cert-password-file' -l 'cert-password-file' -d 'A file holding the password of the key or PKCS#12 file, or the token\'s PIN (also $HAPPY_CERT_PASSWORD).' -rF
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" pkcs11-module' -l 'pkcs11-module' -d 'With a pkcs11: --cert: the PKCS#11 module (also $HAPPY_PKCS11_MODULE; default: p11-kit\'s proxy module).' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'so\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" revocation-check' -l 'revocation-check' -d 'With --cert: ask the certificate\'s OCSP responder first. soft (default) warns when it cannot tell, strict stops, off skips the check.' -rfka 'off soft strict'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" server' -l 'server' -d 'The Happy server URL (default: $HAPPY_SERVER_URL, else serverUrl in settings.json, else the public server).' -rfka ''
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" ca' -l 'ca' -d 'A PEM bundle of extra CA roots to trust for the server (also $HAPPY_CA_FILE).' -rfa '(set -l exts \'pem\' \'crt\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" debug' -l 'debug' -d 'Log each request (method, path, status, timing, retries) to stderr; secrets are never logged. Same as HAPPY_DEBUG=1.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" version' -l 'version' -d 'Show the version.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth login" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth status" json' -l 'json' -d 'Print one JSON object instead of text.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth status" check' -l 'check' -d 'Also ask the server whether it still accepts this login and knows this machine.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth status" timeout' -l 'timeout' -d 'With --check: seconds the check may take (default 15).' -rfka ''
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth status" server' -l 'server' -d 'The Happy server URL (default: $HAPPY_SERVER_URL, else serverUrl in settings.json, else the public server).' -rfka ''
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth status" ca' -l 'ca' -d 'A PEM bundle of extra CA roots to trust for the server (also $HAPPY_CA_FILE).' -rfa '(set -l exts \'pem\' \'crt\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth status" debug' -l 'debug' -d 'Log each request (method, path, status, timing, retries) to stderr; secrets are never logged. Same as HAPPY_DEBUG=1.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth status" version' -l 'version' -d 'Show the version.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth logout" y yes' -s 'y' -l 'yes' -d 'Do not ask for confirmation.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth logout" deregister' -l 'deregister' -d 'First ask the server to remove this machine from the account (newer happy-server).'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth logout" server' -l 'server' -d 'The Happy server URL (default: $HAPPY_SERVER_URL, else serverUrl in settings.json, else the public server).' -rfka ''
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth logout" ca' -l 'ca' -d 'A PEM bundle of extra CA roots to trust for the server (also $HAPPY_CA_FILE).' -rfa '(set -l exts \'pem\' \'crt\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth logout" debug' -l 'debug' -d 'Log each request (method, path, status, timing, retries) to stderr; secrets are never logged. Same as HAPPY_DEBUG=1.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth logout" version' -l 'version' -d 'Show the version.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth logout" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth approve" server' -l 'server' -d 'The Happy server URL (default: $HAPPY_SERVER_URL, else serverUrl in settings.json, else the public server).' -rfka ''
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth approve" ca' -l 'ca' -d 'A PEM bundle of extra CA roots to trust for the server (also $HAPPY_CA_FILE).' -rfa '(set -l exts \'pem\' \'crt\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth approve" debug' -l 'debug' -d 'Log each request (method, path, status, timing, retries) to stderr; secrets are never logged. Same as HAPPY_DEBUG=1.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth approve" version' -l 'version' -d 'Show the version.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth approve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth token" version' -l 'version' -d 'Show the version.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy auth token" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'happy' -n '__happy_should_offer_completions_for_flags_or_options "happy help" version' -l 'version' -d 'Show the version.'
