# Dovecot Pigeonhole with sieve_extprograms and vnd.dovecot.filter;
# mailseal-filter linked into sieve_filter_bin_dir
require ["vnd.dovecot.filter"];
filter "mailseal-filter" ["--incoming"];
