/* The forecasting methods, one line each, in the order mlforecast(1) lists them: a file
 * that defines ML_FC(name) and includes this one sees every method once. */
ML_FC(naive)
ML_FC(snaive)
ML_FC(drift)
ML_FC(mean)
ML_FC(ets)
ML_FC(arima)
ML_FC(theta)
ML_FC(linear)
ML_FC(prophet)
ML_FC(combo)
ML_FC(auto)
ML_FC(ensemble)
